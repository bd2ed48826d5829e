/**
 * Links into MLflow's UI that open in its machine-learning view. MLflow 3.17's UI picks its view
 * (GenAI or machine learning) from the `workflowType` query parameter, else from the browser's last
 * choice, defaulting to GenAI, where runs sit under "Evaluations" and the sidebar has no models.
 */
const ML_VIEW = 'workflowType=machine_learning';

const base = (trackingUri: string) => trackingUri.replace(/\/+$/, '');

export const mlflowLinks = {
  experiment: (trackingUri: string, experimentId: string) =>
    `${base(trackingUri)}/#/experiments/${experimentId}?${ML_VIEW}`,
  run: (trackingUri: string, experimentId: string, runId: string) =>
    `${base(trackingUri)}/#/experiments/${experimentId}/runs/${runId}?${ML_VIEW}`,
  model: (trackingUri: string, modelName: string) =>
    `${base(trackingUri)}/#/models/${encodeURIComponent(modelName)}?${ML_VIEW}`,
  version: (trackingUri: string, modelName: string, version: string) =>
    `${base(trackingUri)}/#/models/${encodeURIComponent(modelName)}/versions/${version}?${ML_VIEW}`,
};
