import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createLogSink, formatLogLine, type LogFormat } from '../scripts/demo/log-lines.js';

const root = fileURLToPath(new URL('..', import.meta.url));

describe("the demo's readable log lines", () => {
  const line = (o: Record<string, unknown>) =>
    JSON.stringify({ level: 'info', time: '2026-11-30T15:31:34.482Z', pid: 1, name: 'trainer', ...o });

  it('shows time, source, message and short fields; nested lists and long values are cut', () => {
    const text = formatLogLine(
      line({
        runId: 'de7c720926e74bfb9c2565fabcc6307a',
        gate: 'PASS',
        reasons: ['all 8 checks passed'],
        checks: [{ name: 'auc', value: 0.7 }],
        candidate: { logloss: 0.07493656800443237, auc: 0.724471964060625 },
        sha256: 'a'.repeat(64),
        msg: 'promotion gate decided',
      }),
      { width: 400, color: false },
    );
    expect(text).toBe(
      `15:31:34 trainer      promotion gate decided  runId=de7c720926e74bfb9c2565fabcc6307a  gate=PASS  reasons="all 8 checks passed"  candidate.logloss=0.07494  candidate.auc=0.7245  sha256=${'a'.repeat(47)}…`,
    );
  });

  it('shows a context key once per source, again only when it changes, and the level when not info', () => {
    const context = new Map<string, unknown>();
    const show = (o: Record<string, unknown>) => formatLogLine(line(o), { width: 200, color: false, context });
    expect(show({ runId: 'r1', msg: 'a' })).toContain('runId=r1');
    expect(show({ runId: 'r1', msg: 'b' })).not.toContain('runId');
    expect(show({ runId: 'r2', level: 'warn', msg: 'c', err: { message: 'boom\n at x', code: 'E1' } })).toBe(
      '15:31:34 trainer      WARN c  runId=r2  code=E1  error="boom"',
    );
  });

  it('fits the terminal width and passes lines that are not JSON through', () => {
    expect(formatLogLine(line({ msg: 'x'.repeat(300) }), { width: 80, color: false })).toHaveLength(80);
    expect(formatLogLine('[install] node_modules up to date', { width: 80, color: false })).toBe(
      '[install] node_modules up to date',
    );
  });
});

describe("the demo's log sink", () => {
  const pino = JSON.stringify({ level: 'info', time: '2026-11-30T15:31:34.482Z', name: 'trainer', msg: 'run done' });

  /** Writes one pino line and one plain line through a sink of `format`; returns what the screen and the file got. */
  async function through(format: LogFormat, isTTY: boolean): Promise<{ screen: string; file: string }> {
    const dir = mkdtempSync(join(tmpdir(), 'fctr-sink-'));
    try {
      const out = Object.assign(new PassThrough(), { isTTY, columns: 120 }) as unknown as NodeJS.WriteStream;
      let screen = '';
      out.on('data', (chunk: Buffer) => (screen += chunk.toString()));
      const sink = createLogSink({ format, out, jsonFile: join(dir, 'logs.jsonl') });
      const stream = sink.stream();
      await new Promise<void>((resolve) => stream.end(`${pino}\n[install] node_modules up to date\n`, resolve));
      await sink.close();
      const file = (() => {
        try {
          return readFileSync(join(dir, 'logs.jsonl'), 'utf8');
        } catch {
          return '';
        }
      })();
      return { screen, file };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it('json (off a terminal, or asked for): the JSON lines as they are, nothing rewritten', async () => {
    const { screen, file } = await through('json', false);
    expect(screen).toBe(`${pino}\n[install] node_modules up to date\n`);
    expect(file).toBe('');
  });

  it('pretty: readable lines on the screen, the JSON lines kept in the file', async () => {
    const { screen, file } = await through('pretty', false);
    expect(screen).not.toContain('{"');
    expect(screen).toContain('trainer      run done');
    expect(file).toBe(`${pino}\n`);
  });
});

describe('the demo with its inference port taken', () => {
  it('stops at once with one line naming the variable to set, exit code 2', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', 'scripts/demo/demo.ts'], {
        cwd: root,
        env: { ...process.env, DEMO_INFERENCE_PORT: String(port), DEMO_DATA_DIR: '.data/demo-port-test' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      expect(code).toBe(2);
      expect(stderr.trim().split('\n')).toEqual([
        `demo: port ${port} (DEMO_INFERENCE_PORT) is in use on 127.0.0.1: stop what listens there, or set DEMO_INFERENCE_PORT to a free port (0 = any)`,
      ]);
    } finally {
      blocker.close();
    }
  });
});
