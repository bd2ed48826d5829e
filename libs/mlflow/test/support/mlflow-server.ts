import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { errorMessage } from '@fallback-ctr/runtime';
import { freePort } from '../../../../scripts/demo/free-port.js';
import {
  sqliteMlflowServer,
  stopProcessGroup,
  waitMlflowHealthy,
} from '../../../../scripts/demo/mlflow-server-process.js';
import { setUpVariable } from '../../../../test/support/set-up-env.js';

export interface TestMlflowServer {
  url: string;
  adminUsername: string;
  adminPassword: string;
  /** Stops the server and removes its data. */
  stop(): Promise<void>;
  /** Stops the server process only (its data stays), as a crash or a restart does. */
  kill(): Promise<void>;
  /** Starts it again on the same port and data after `kill`; resolves once it is healthy. */
  start(): Promise<void>;
}

export interface TestMlflowServerOptions {
  basicAuth?: boolean;
  serveArtifacts?: boolean;
  startTimeoutMs?: number;
}

function mlflowBinary(): string {
  const python = setUpVariable('FALLBACK_CTR_PYTHON');
  return join(dirname(resolve(python)), 'mlflow');
}

/**
 * A second, private MLflow server (SQLite in a temporary directory, its own loopback port) for
 * tests that need a configuration the shared server does not have, e.g. `--app-name basic-auth`.
 */
export async function startTestMlflowServer(options: TestMlflowServerOptions = {}): Promise<TestMlflowServer> {
  const dir = await mkdtemp(join(tmpdir(), 'mlflowlib-server-'));
  const port = await freePort();
  const adminUsername = 'admin';
  const adminPassword = `Adm1n-${Math.random().toString(36).slice(2)}`;
  const server = sqliteMlflowServer(join(dir, 'mlflow.db'), port);
  const args = [...server.args];
  if (options.serveArtifacts === false)
    args.push('--no-serve-artifacts', '--default-artifact-root', join(dir, 'mlruns'));
  else args.push('--artifacts-destination', join(dir, 'artifacts'));
  const env: NodeJS.ProcessEnv = { ...server.env, MLFLOW_FLASK_SERVER_SECRET_KEY: `test-${port}-secret` };
  if (options.basicAuth) {
    args.push('--app-name', 'basic-auth');
    const config = join(dir, 'basic_auth.ini');
    await writeFile(
      config,
      [
        '[mlflow]',
        'default_permission = READ',
        `database_uri = sqlite:///${join(dir, 'basic_auth.db')}`,
        `admin_username = ${adminUsername}`,
        `admin_password = ${adminPassword}`,
        'authorization_function = mlflow.server.auth:authenticate_request_basic_auth',
        // Each password check is a deliberately slow hash; cache the good ones so the tests stay quick.
        'auth_cache_ttl_seconds = 300',
        '',
      ].join('\n'),
    );
    env.MLFLOW_AUTH_CONFIG_PATH = config;
  }
  const url = `http://127.0.0.1:${port}`;
  let stderr = '';
  let child: ChildProcess | undefined;

  function launch(): void {
    const started = spawn(mlflowBinary(), args, { cwd: dir, env, detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
    started.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    child = started;
  }

  async function kill(): Promise<void> {
    if (child) await stopProcessGroup(child);
  }

  async function stop(): Promise<void> {
    await kill();
    await rm(dir, { recursive: true, force: true });
  }

  /** Resolves once /health answers; throws (with the server's stderr) when it does not in time. */
  async function waitHealthy(): Promise<void> {
    try {
      if (child) await waitMlflowHealthy(url, child, options.startTimeoutMs ?? 150_000);
    } catch (error) {
      await stop();
      throw new Error(`the test MLflow server did not start on ${url} (${errorMessage(error)}):\n${stderr}`);
    }
  }

  launch();
  await waitHealthy();
  return {
    url,
    adminUsername,
    adminPassword,
    stop,
    kill,
    async start() {
      launch();
      await waitHealthy();
    },
  };
}
