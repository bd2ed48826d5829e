import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100;

/**
 * CPU seconds (user + system) used so far by a process and all its live descendants, from /proc
 * (Linux). A cluster server's primary and workers together, for CPU-per-request figures.
 */
export function treeCpuSeconds(rootPid: number): number {
  const stats = new Map<number, { ppid: number; ticks: number }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const text = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
      // After "pid (comm) ": state ppid ... utime is field 14 of stat, i.e. index 11 here; stime index 12.
      stats.set(Number(entry), { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) });
    } catch {
      // the process exited while we read
    }
  }
  let ticks = 0;
  for (const [pid, st] of stats) {
    for (let p: number | undefined = pid; p !== undefined && p > 1; p = stats.get(p)?.ppid) {
      if (p === rootPid) {
        ticks += st.ticks;
        break;
      }
    }
  }
  return ticks / TICKS_PER_SECOND;
}
