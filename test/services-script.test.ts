import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../scripts/demo/free-port.js';

const script = fileURLToPath(new URL('../scripts/services.sh', import.meta.url));
// A second, private pair of servers on their own ports and data folder, so killing them cannot
// disturb the shared servers every other test uses.
const dataDir = mkdtempSync(join(tmpdir(), 'fctr-services-'));
// PostgreSQL runs as the postgres user when the tests run as root: it must be able to enter the folder.
chmodSync(dataDir, 0o755);
let env: NodeJS.ProcessEnv = {};

/** Runs one command of the script; throws with its stderr when it fails. */
function services(command: 'up' | 'down' | 'status'): { stdout: string; stderr: string } {
  const result = spawnSync('bash', [script, command], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (result.status !== 0) throw new Error(`services.sh ${command} exited ${result.status}: ${result.stderr}`);
  return { stdout: result.stdout, stderr: result.stderr };
}

/** Where the script put the cluster (under the data folder, or under /tmp when postgres cannot enter it). */
let pgData = join(dataDir, 'pg');

function pgPid(): number {
  return Number(readFileSync(join(pgData, 'postmaster.pid'), 'utf8').split('\n')[0]);
}

beforeAll(async () => {
  env = {
    ...process.env,
    FALLBACK_CTR_DATA_DIR: dataDir,
    FALLBACK_CTR_PG_PORT: String(await freePort()),
    FALLBACK_CTR_MLFLOW_PORT: String(await freePort()),
  };
});

afterAll(() => {
  services('down');
  rmSync(dataDir, { recursive: true, force: true });
});

describe('scripts/services.sh', () => {
  it('starts both servers, reuses them, and restarts them after they were killed', { timeout: 900_000 }, () => {
    const mlflowUrl = `http://127.0.0.1:${env.FALLBACK_CTR_MLFLOW_PORT}`;
    const first = services('up');
    expect(first.stdout).toContain(mlflowUrl);
    pgData = /initialising a PostgreSQL cluster in (\S+)/.exec(first.stderr)?.[1] ?? pgData;
    expect(services('status').stdout).toMatch(/postgres: up[\s\S]*mlflow: {3}up/);

    // A second `up` reuses both servers as they are.
    const mlflowGroup = Number(readFileSync(join(dataDir, 'mlflow.pid'), 'utf8'));
    const postgres = pgPid();
    const again = services('up').stderr;
    expect(again).toMatch(/PostgreSQL already running/);
    expect(again).toMatch(/MLflow already running/);
    expect(Number(readFileSync(join(dataDir, 'mlflow.pid'), 'utf8'))).toBe(mlflowGroup);
    expect(pgPid()).toBe(postgres);

    process.kill(-mlflowGroup, 'SIGKILL');
    process.kill(postgres, 'SIGKILL');
    expect(services('status').stdout).toMatch(/postgres: down[\s\S]*mlflow: {3}down/);

    services('up');
    expect(services('status').stdout).toMatch(/postgres: up[\s\S]*mlflow: {3}up/);
    expect(pgPid()).not.toBe(postgres);

    services('down');
    expect(services('status').stdout).toMatch(/postgres: down[\s\S]*mlflow: {3}down/);
  });
});
