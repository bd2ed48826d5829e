import { createMlflowClient, type MlflowClient } from '@fallback-ctr/mlflow';
import { ARTIFACT_FILE_NAME, VersionTag } from '@fallback-ctr/model';
import { trackingUri } from '../../../test/support/set-up-env.js';

export { trackingUri };

export function testClient(uri = trackingUri()): MlflowClient {
  return createMlflowClient({ trackingUri: uri, retry: { maxAttempts: 1 } });
}

/** A registered model name no other test file uses. */
export function uniqueName(prefix: string): string {
  return `inference-${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

/**
 * What the trainer does: a run, the artifact uploaded as `model/<ARTIFACT_FILE_NAME>`, a model
 * version whose source is `<artifact_uri>/model`, tagged; optionally an alias pointing at it.
 */
export async function publishVersion(
  client: MlflowClient,
  name: string,
  bytes: Uint8Array,
  options: { alias?: string; tags?: Record<string, string> } = {},
): Promise<string> {
  const experiment = await client.getOrCreateExperiment(name);
  const run = await client.createRun({ experimentId: experiment.experimentId, runName: 'inference-test' });
  await client.uploadArtifact(run.info.artifactUri, `model/${ARTIFACT_FILE_NAME}`, bytes);
  await client.finishRun(run.info.runId, 'FINISHED');
  await client.getOrCreateRegisteredModel(name);
  const version = await client.createModelVersion({
    name,
    source: `${run.info.artifactUri}/model`,
    runId: run.info.runId,
    tags: { 'gate.outcome': 'PASS', ...options.tags },
  });
  if (options.alias) await client.setAlias(name, options.alias, version.version);
  return version.version;
}

/** publishVersion of a made artifact, tagged with its sha256 as the trainer tags it (the loader checks the tag). */
export function publishArtifact(
  client: MlflowClient,
  name: string,
  artifact: { bytes: Uint8Array; sha256: string },
  alias?: string,
): Promise<string> {
  return publishVersion(client, name, artifact.bytes, {
    alias,
    tags: { [VersionTag.ARTIFACT_SHA256]: artifact.sha256 },
  });
}

export async function cleanup(client: MlflowClient, name: string): Promise<void> {
  await client.deleteRegisteredModel(name).catch(() => undefined);
  const experiment = await client.getExperimentByName(name).catch(() => undefined);
  if (experiment) await client.deleteExperiment(experiment.experimentId).catch(() => undefined);
}
