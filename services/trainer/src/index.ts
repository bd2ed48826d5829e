export { ANALYZE_ENV_NAMES, AnalyzeEnvSchema } from './analyze/index.js';
export { type CliIo, ExitCode, runCli } from './cli.js';
export { renderCommandTable } from './commands/index.js';
export {
  ChallengerEnvSchema,
  DataEnvSchema,
  GateEnvSchema,
  type GateThresholds,
  GateThresholdsSchema,
  loadTrainerConfig,
  ModelEnvSchema,
  OpsEnvSchema,
  TRAINER_ENV_NAMES,
  type TrainerConfig,
  type TrainerEnv,
  TrainerEnvSchema,
} from './config.js';
export { type RocPoint, rocCurve } from './curves.js';
export {
  createDeploymentRollout,
  type DeploymentRollout,
  type RolloutTarget,
  rolloutProgress,
} from './deployment-rollout.js';
export { TrainerError, TrainerErrorCode } from './errors.js';
export { resolveFeatureSpec } from './feature-spec-source.js';
export { mlflowLinks } from './mlflow-links.js';
export {
  loadMonitorSettings,
  MONITOR_ENV_NAMES,
  MonitorEnvSchema,
  type MonitorSettings,
} from './monitor/monitor-env.js';
export { type MonitorReport, runMonitor } from './monitor/run-monitor.js';
export { type AfterPublishContext, type RunOutcome, runTraining, type TrainingDeps } from './pipeline/run-training.js';
export {
  type CheckOutcome,
  decidePromotion,
  type GateCheck,
  GateCheckSchema,
  type GateDecision,
  GateDecisionSchema,
  type GateInput,
  type GateMetrics,
} from './promotion-gate.js';
export { type RollbackResult, rollbackChampion } from './rollback.js';
export { acquireRunLock, type RunLock, runLockKey } from './run-lock.js';
export { startSchedule, type TrainerSchedule } from './schedule.js';
export { formatStatus, readStatus, type TrainerStatus } from './status.js';
export { reliabilityDiagramSvg, rocCurveSvg } from './svg-plots.js';
