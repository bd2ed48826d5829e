import { readFileSync } from 'node:fs';
import { z } from 'zod';

const LockPackageSchema = z.looseObject({
  name: z.string().optional(),
  resolved: z.string().optional(),
  link: z.boolean().optional(),
  dev: z.boolean().optional(),
  optional: z.boolean().optional(),
  dependencies: z.record(z.string(), z.string()).optional(),
  optionalDependencies: z.record(z.string(), z.string()).optional(),
  peerDependencies: z.record(z.string(), z.string()).optional(),
  peerDependenciesMeta: z.record(z.string(), z.looseObject({ optional: z.boolean().optional() })).optional(),
});
const LockSchema = z.looseObject({
  lockfileVersion: z.literal(3),
  packages: z.record(z.string(), LockPackageSchema),
});

/**
 * What `npm ci --omit=dev -w <workspace>` installs, read from package-lock.json: the production
 * dependencies of that workspace folder, resolved like Node does (nearest node_modules upwards),
 * links to other workspaces followed. Returns the lock locations (e.g. "node_modules/pino",
 * "libs/model").
 */
export function productionClosure(lockPath: string, workspaceDir: string): Set<string> {
  const lock = LockSchema.parse(JSON.parse(readFileSync(lockPath, 'utf8')));
  const packages = lock.packages;
  const out = new Set<string>();
  const resolveFrom = (location: string, name: string): string | undefined => {
    let dir = location;
    for (;;) {
      const candidate = dir === '' ? `node_modules/${name}` : `${dir}/node_modules/${name}`;
      if (packages[candidate]) return candidate;
      if (dir === '') return undefined;
      const up = dir.lastIndexOf('/node_modules/');
      dir = up >= 0 ? dir.slice(0, up) : '';
    }
  };
  const visit = (location: string): void => {
    const entry = packages[location];
    if (!entry) throw new Error(`package-lock.json has no entry ${location}`);
    if (entry.link && entry.resolved !== undefined) {
      visit(entry.resolved);
      return;
    }
    if (out.has(location)) return;
    out.add(location);
    const peers = Object.keys(entry.peerDependencies ?? {}).filter((p) => !entry.peerDependenciesMeta?.[p]?.optional);
    const names = [
      ...Object.keys(entry.dependencies ?? {}),
      ...Object.keys(entry.optionalDependencies ?? {}),
      ...peers,
    ];
    for (const name of names) {
      const target = resolveFrom(location, name);
      if (target) visit(target);
      else if (!(name in (entry.optionalDependencies ?? {})))
        throw new Error(`${location}: ${name} is not in the lock`);
    }
  };
  visit(workspaceDir);
  return out;
}
