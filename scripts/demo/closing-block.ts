// The one module, not the trainer package's index (which loads the Kubernetes client and the CLI).
import { mlflowLinks } from '../../services/trainer/src/mlflow-links.js';

/** What the demo knows when it ends, for the last block it prints. */
export interface DemoOutcome {
  seconds: number;
  /** --exit: everything has been stopped before the block is printed. */
  stopped: boolean;
  color: boolean;
  /** The checkout, where the printed commands run. */
  root: string;
  /** The data directory as shown to the person ('.' when it is the checkout). */
  dataDir: string;
  /** The log files as shown to the person. */
  logs: readonly string[];
  /** The demo started its own MLflow (SQLite database and artifacts in the data directory). */
  localMlflow: boolean;
  trackingUri: string;
  experimentId: string;
  modelName: string;
  firstChampion: string;
  secondChampion: string;
  inferenceUrl: string;
  databaseUrl: string;
}

/**
 * The demo's closing block. While everything runs: every URL, a curl to try and the env to paste for the
 * trainer CLI. After --exit: nothing is running, so no URL and no command that would need it.
 */
export function closingBlock(o: DemoOutcome): string {
  const bold = (s: string) => (o.color ? `\x1b[1m${s}\x1b[0m` : s);
  const logs = o.logs.join(', ');
  if (o.stopped)
    return (
      `\n${bold(`fallback-ctr ran end to end in ${o.seconds} s and has stopped (--exit).`)}\n` +
      `  what it left in ${o.dataDir || '.'}: summary.json, logs (${logs})` +
      `${o.localMlflow ? ", MLflow's SQLite database and artifacts" : ''}\n` +
      '  run it without --exit to keep everything running and browse the MLflow UI and the API docs.\n'
    );
  const where = (label: string, url: string) => `  ${label.padEnd(48)} ${url}\n`;
  const cli = 'npm run -s trainer --';
  return (
    `\n${bold(`fallback-ctr is up (${o.seconds} s).`)} Where to look:\n` +
    where('MLflow experiment: runs, metrics, plots, gates', mlflowLinks.experiment(o.trackingUri, o.experimentId)) +
    where('registered model: versions, tags, aliases', mlflowLinks.model(o.trackingUri, o.modelName)) +
    where(`champion: version ${o.secondChampion}`, mlflowLinks.version(o.trackingUri, o.modelName, o.secondChampion)) +
    where('inference API docs (OpenAPI)', `${o.inferenceUrl}/docs`) +
    `  try it:  curl -s ${o.inferenceUrl}/predict -H 'content-type: application/json' \\\n` +
    `             -d '{"impressions":[{"id":"a","ad_id":"ad-1","device_type":"mobile"}]}'\n` +
    `\n  The trainer CLI against this demo (paste into another terminal in ${o.root}):\n` +
    `    export DATABASE_URL=${o.databaseUrl} MLFLOW_TRACKING_URI=${o.trackingUri} MODEL_NAME=${o.modelName}\n` +
    `    ${cli} status        # champion, previous champion, versions and gate outcomes\n` +
    `    ${cli} rollback      # champion back to version ${o.firstChampion}; restart inference to serve it\n` +
    `  logs: ${logs}\n` +
    `\n${bold('Press Ctrl-C to stop everything')} (inference, then PostgreSQL, then MLflow).\n`
  );
}
