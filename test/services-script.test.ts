import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const script = fileURLToPath(new URL('../scripts/services.sh', import.meta.url));
// A second, private pair of servers on their own ports and data folder, so killing them cannot
// disturb the shared servers every other test uses.
const dataDir = mkdtempSync(join(tmpdir(), 'fctr-services-'));
// PostgreSQL runs as the postgres user when the tests run as root: it must be able to enter the folder.
chmodSync(dataDir, 0o755);
const env = {
  ...process.env,
  FALLBACK_CTR_DATA_DIR: dataDir,
  FALLBACK_CTR_PG_PORT: '56432',
  FALLBACK_CTR_MLFLOW_PORT: '56000',
};

function services(command: 'up' | 'down' | 'status'): string {
  return execFileSync('bash', [script, command], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function pgPid(): number {
  return Number(readFileSync(join(dataDir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0]);
}

afterAll(() => {
  services('down');
  rmSync(dataDir, { recursive: true, force: true });
});

describe('scripts/services.sh', () => {
  it('starts both servers, reuses them, and restarts them after they were killed', { timeout: 240_000 }, () => {
    expect(services('up')).toContain('http://127.0.0.1:56000');
    expect(services('status')).toMatch(/postgres: up[\s\S]*mlflow: {3}up/);

    const second = Date.now();
    services('up');
    expect(Date.now() - second).toBeLessThan(10_000);

    const mlflowGroup = Number(readFileSync(join(dataDir, 'mlflow.pid'), 'utf8'));
    process.kill(-mlflowGroup, 'SIGKILL');
    process.kill(pgPid(), 'SIGKILL');
    expect(services('status')).toMatch(/postgres: down[\s\S]*mlflow: {3}down/);

    services('up');
    expect(services('status')).toMatch(/postgres: up[\s\S]*mlflow: {3}up/);

    services('down');
    expect(services('status')).toMatch(/postgres: down[\s\S]*mlflow: {3}down/);
  });
});
