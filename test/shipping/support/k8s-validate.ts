import { isKnownKind, KINDS, kindKey } from './k8s-kinds.js';
import type { StrictFieldChecker } from './k8s-strict-fields.js';

/**
 * Problems with one manifest object: an unsupported kind, a schema violation reported by
 * kubernetes-models (types, required fields, enums, formats), or a field the API type does not
 * declare. Empty when the object is valid.
 */
export function manifestProblems(object: unknown, strict: StrictFieldChecker): string[] {
  const { apiVersion, kind } = (object ?? {}) as { apiVersion?: unknown; kind?: unknown };
  const key = kindKey(apiVersion, kind);
  if (!isKnownKind(key)) return [`unsupported kind ${key} (add it to test/shipping/support/k8s-kinds.ts)`];
  const problems: string[] = [];
  const Model = KINDS[key] as unknown as new (data: unknown) => { validate(): void };
  try {
    new Model(structuredClone(object)).validate();
  } catch (error) {
    problems.push(`schema: ${(error as Error).message}`);
  }
  for (const path of strict.unknownFields(key, object)) problems.push(`unknown field: ${path}`);
  return problems;
}
