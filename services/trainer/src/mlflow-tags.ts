import { hostname, userInfo } from 'node:os';

/**
 * Tags that MLflow itself reads (names and values from MLflow 3.17's server and UI source): the
 * experiment's kind decides which view the UI opens, the others fill what the run page shows.
 */
export const MlflowTag = {
  /** Without it MLflow 3 opens an experiment in its GenAI view, with the runs under "Evaluations". */
  EXPERIMENT_KIND: 'mlflow.experimentKind',
  /** The run's description (Markdown) on its overview page. */
  RUN_NOTE: 'mlflow.note.content',
  SOURCE_NAME: 'mlflow.source.name',
  /** NOTEBOOK | JOB | PROJECT | LOCAL | UNKNOWN */
  SOURCE_TYPE: 'mlflow.source.type',
  USER: 'mlflow.user',
} as const;

/** The kind that opens MLflow's classic machine-learning view (runs, metrics, charts, models). */
export const CLASSIC_ML_EXPERIMENT_KIND = 'custom_model_development';

/** Who started a run, for MLflow's "User" column: the OS account (a pod's hostname is its name). */
export function runUser(): string {
  try {
    return `${userInfo().username}@${hostname()}`;
  } catch {
    return `uid ${process.getuid?.() ?? '?'}@${hostname()}`;
  }
}
