import type { FieldSpec } from './feature-spec.js';

/**
 * Categorical fields read from one source, for specs written in code (benches, tests):
 * `categoricalFields('context', ['item_id', 'position'])`.
 */
export function categoricalFields(source: FieldSpec['source'], names: readonly string[]): FieldSpec[] {
  return names.map((name) => ({ name, source, kind: 'categorical' }));
}
