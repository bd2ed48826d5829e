import type { FieldSpec, RawImpression } from '@fallback-ctr/model';

/** Label of the value every field takes when it is absent, null, "" or (numeric) not a number. */
export const MISSING_LABEL = '(missing)';

/** The raw value of a field in an impression (a column or a context key). */
export function rawFieldValue(raw: RawImpression, field: FieldSpec): unknown {
  if (field.source === 'context') return raw.context == null ? undefined : raw.context[field.name];
  return (raw as Record<string, unknown>)[field.name];
}

function numeric(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.length > 0) return Number(v);
  return Number.NaN;
}

/** True when the featurizer sees the value as missing (the rule documented on FeatureSpecSchema). */
export function isMissing(field: FieldSpec, v: unknown): boolean {
  if (field.kind === 'categorical') {
    if (typeof v === 'string') return v.length === 0;
    if (typeof v === 'number') return !Number.isFinite(v);
    return typeof v !== 'boolean';
  }
  return !Number.isFinite(numeric(v));
}

function short(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (Math.abs(x) >= 100) return String(Math.round(x));
  return String(Number(x.toPrecision(3)));
}

/**
 * A person-readable label of the feature value a raw value becomes: categorical values as they are,
 * numeric fields as the bucket interval they fall into. Only for display: the featurizer's hash of the
 * same value decides identity.
 */
export function valueLabel(field: FieldSpec, v: unknown): string {
  if (isMissing(field, v)) return MISSING_LABEL;
  if (field.kind === 'categorical') return String(v);
  const x = numeric(v);
  if (field.kind === 'log1p') {
    const b = Math.floor(field.scale * Math.log1p(Math.max(x, 0)));
    const lo = Math.expm1(b / field.scale);
    const hi = Math.expm1((b + 1) / field.scale);
    return `[${short(lo)}, ${short(hi)})`;
  }
  const bs = field.boundaries;
  let i = 0;
  while (i < bs.length && (bs[i] as number) <= x) i++;
  if (i === 0) return `< ${short(bs[0] as number)}`;
  if (i === bs.length) return `≥ ${short(bs[bs.length - 1] as number)}`;
  return `[${short(bs[i - 1] as number)}, ${short(bs[i] as number)})`;
}
