import { parseDocument } from 'yaml';

/**
 * Parses one JSON log line, failing on what JSON.parse lets through: a key twice in one object
 * (JSON.parse keeps the last; log collectors may reject the line or keep either). JSON is YAML 1.2,
 * and the yaml package reports duplicate keys with their position.
 */
export function parseJsonLine(line: string): Record<string, unknown> {
  const parsed: unknown = JSON.parse(line);
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new Error(`not a JSON object: ${line.slice(0, 200)}`);
  const doc = parseDocument(line, { uniqueKeys: true });
  const duplicate = doc.errors.find((e) => e.code === 'DUPLICATE_KEY');
  if (duplicate) {
    const at = duplicate.pos[0];
    throw new Error(`a key twice in one log line (at ${at}: …${line.slice(Math.max(0, at - 60), at + 40)}…): ${line}`);
  }
  return parsed as Record<string, unknown>;
}
