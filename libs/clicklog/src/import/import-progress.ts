import type { ImportProgress } from './import-log.js';

function rate(n: number): string {
  if (n >= 1_000_000) return `${(n / 1_000_000).toFixed(1)}M`;
  if (n >= 10_000) return `${Math.round(n / 1000)}k`;
  return String(Math.round(n));
}

function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  if (seconds < 60) return `${Math.ceil(seconds)}s`;
  const m = Math.floor(seconds / 60);
  return m < 60
    ? `${m}m${String(Math.ceil(seconds % 60)).padStart(2, '0')}s`
    : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** One status line: phase, rows, rows/s, share of the file and the ETA that share implies. */
export function progressLine(p: ImportProgress): string {
  const seconds = p.elapsedMs / 1000;
  if (p.phase === 'merge') return `import: merging ${p.rows.toLocaleString('en-US')} rows into the logs…`;
  const perSecond = seconds > 0 ? p.rows / seconds : 0;
  const share = Math.min(1, Math.max(0, p.progress));
  const eta = share > 0 ? (seconds * (1 - share)) / share : Number.POSITIVE_INFINITY;
  const bad = p.badRows > 0 ? `  ${p.badRows.toLocaleString('en-US')} bad` : '';
  return `import ${p.phase}: ${p.rows.toLocaleString('en-US')} rows  ${rate(perSecond)} rows/s  ${(share * 100).toFixed(0)}%  ETA ${duration(eta)}${bad}`;
}

/**
 * Redraws the status line on a terminal at most every `intervalMs` (carriage return, no scroll);
 * `done()` ends the line. Writes nothing when the stream is not a TTY.
 */
export function terminalProgress(
  stream: NodeJS.WriteStream,
  intervalMs = 200,
): { update(p: ImportProgress): void; done(): void } {
  let last = 0;
  let drawn = false;
  let lastPhase: string | undefined;
  return {
    update(p) {
      if (!stream.isTTY) return;
      const now = performance.now();
      if (now - last < intervalMs && p.phase === lastPhase) return;
      last = now;
      lastPhase = p.phase;
      const text = progressLine(p).slice(0, Math.max(20, (stream.columns ?? 80) - 1));
      stream.write(`\r\x1b[2K${text}`);
      drawn = true;
    },
    done() {
      if (drawn) stream.write('\n');
      drawn = false;
    },
  };
}
