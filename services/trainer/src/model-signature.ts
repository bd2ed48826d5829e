import { ARTIFACT_FILE_NAME, type FeatureSpec } from '@fallback-ctr/model';

/** One column of an MLflow signature (MLflow's ColSpec as JSON). */
interface ColumnSpec {
  name: string;
  type: 'string' | 'double';
  required: boolean;
}

/**
 * The inputs a model reads, as MLflow's signature describes them: every raw field of the feature spec
 * (context keys as `context.<key>`), categorical ones as strings and numeric ones as doubles, none
 * required (a missing field is scored as "missing"); the output is the predicted CTR.
 */
export function signatureColumns(spec: FeatureSpec): { inputs: ColumnSpec[]; outputs: ColumnSpec[] } {
  const inputs = spec.fields.map((f) => ({
    name: f.source === 'context' ? `context.${f.name}` : f.name,
    type: f.kind === 'categorical' ? ('string' as const) : ('double' as const),
    required: false,
  }));
  return { inputs, outputs: [{ name: 'ctr', type: 'double', required: true }] };
}

/**
 * An `MLmodel` file beside the artifact, so MLflow's version page shows the model's inputs (its Schema)
 * and the flavor says how to load it. The model itself stays plain data in `model.json`: this file is
 * a description, not a loader. JSON strings are valid YAML scalars, so every value is written as JSON.
 */
export function mlmodelFile(spec: FeatureSpec, meta: { runId: string; createdAt: Date; sha256: string }): string {
  const { inputs, outputs } = signatureColumns(spec);
  const q = (v: string) => JSON.stringify(v);
  return [
    'artifact_path: model',
    'flavors:',
    '  fallback_ctr:',
    `    artifact: ${q(ARTIFACT_FILE_NAME)}`,
    `    sha256: ${q(meta.sha256)}`,
    `    feature_spec_version: ${spec.version}`,
    `    loader: ${q('@fallback-ctr/model parseArtifact + createScorer')}`,
    `run_id: ${q(meta.runId)}`,
    `utc_time_created: ${q(meta.createdAt.toISOString())}`,
    'signature:',
    `  inputs: ${q(JSON.stringify(inputs))}`,
    `  outputs: ${q(JSON.stringify(outputs))}`,
    '',
  ].join('\n');
}
