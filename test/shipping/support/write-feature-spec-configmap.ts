// Regenerates k8s/base/config-feature-spec.yaml from libs/model's default feature spec:
//   npx tsx --conditions=source test/shipping/support/write-feature-spec-configmap.ts
import { writeFileSync } from 'node:fs';
import { defaultFeatureSpec, type FeatureSpec } from '@fallback-ctr/model';
import { Document, type Scalar } from 'yaml';
import { repoPath } from './paths.js';

const HEADER = `# The feature spec the trainer trains with (mounted as a file, FEATURE_SPEC points at it). It is
# saved inside every model artifact, so inference always applies the spec its model was trained with.
# Generated from libs/model's default: test/shipping/support/write-feature-spec-configmap.ts
`;

export function featureSpecConfigMapYaml(spec: FeatureSpec): string {
  const doc = new Document({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: 'fallback-ctr-feature-spec',
      labels: { 'app.kubernetes.io/part-of': 'fallback-ctr', 'app.kubernetes.io/component': 'trainer' },
    },
    data: { 'feature-spec.json': `${JSON.stringify(spec, null, 2)}\n` },
  });
  const json = doc.getIn(['data', 'feature-spec.json'], true) as Scalar;
  json.type = 'BLOCK_LITERAL';
  return HEADER + doc.toString({ lineWidth: 0 });
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop() ?? '')) {
  const path = repoPath('k8s/base/config-feature-spec.yaml');
  writeFileSync(path, featureSpecConfigMapYaml(defaultFeatureSpec));
  console.log(`wrote ${path}`);
}
