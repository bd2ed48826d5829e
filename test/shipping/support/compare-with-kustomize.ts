// Checks test/shipping/support/kustomize.ts (the small renderer the tests use) against kustomize
// itself: builds test/shipping/kustomize-render (Go, kustomize api v0.21.2 from the Go module proxy;
// a few minutes the first time) and compares both renderings of k8s/base and every overlay.
//   npx tsx test/shipping/support/compare-with-kustomize.ts
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { K8sObjectSchema, renderKustomization } from './kustomize.js';
import { repoPath } from './paths.js';

const tool = join('/tmp', 'fctr-kustomize-render');
execFileSync('go', ['build', '-o', tool, '.'], { cwd: repoPath('test/shipping/kustomize-render'), stdio: 'inherit' });

const dirs = [
  repoPath('k8s/base'),
  ...readdirSync(repoPath('k8s/overlays')).map((overlay) => repoPath('k8s/overlays', overlay)),
];
let differences = 0;
for (const dir of dirs) {
  const real = parseAllDocuments(execFileSync(tool, [dir], { encoding: 'utf8' })).map((d) =>
    K8sObjectSchema.parse(d.toJS()),
  );
  const mine = renderKustomization(dir).map((r) => r.object);
  const key = (o: { kind: string; metadata: { name: string; namespace?: string } }) =>
    `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
  const byKey = new Map(real.map((o) => [key(o), o]));
  const keys = new Set([...real.map(key), ...mine.map(key)]);
  for (const k of keys) {
    const a = byKey.get(k);
    const b = mine.find((o) => key(o) === k);
    if (!isDeepStrictEqual(a, b)) {
      differences++;
      console.log(`DIFFERENT ${dir} ${k}\n  kustomize: ${JSON.stringify(a)}\n  ours:      ${JSON.stringify(b)}`);
    }
  }
  console.log(`${dir}: ${real.length} objects from kustomize, ${mine.length} from ours`);
}
console.log(differences === 0 ? 'identical' : `${differences} differences`);
process.exitCode = differences === 0 ? 0 : 1;
