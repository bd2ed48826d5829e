import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';

const TICKS_PER_SECOND = 100;

/** utime + stime (+ cutime + cstime with `withChildren`) of one process, in clock ticks (0 when it is gone). */
function processTicks(pid: number, withChildren: boolean): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is the state (field 3); utime is field 14, so index 11.
    const [utime, stime, cutime, cstime] = [11, 12, 13, 14].map((i) => Number(fields[i]));
    return utime! + stime! + (withChildren ? cutime! + cstime! : 0);
  } catch {
    return 0;
  }
}

function parentOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return -1;
  }
}

/**
 * CPU seconds a PostgreSQL cluster has used so far: its postmaster, every live backend, and (through
 * the postmaster's cutime) every backend that has already exited. Linux only; needs /proc access to
 * the server's processes (same user or root).
 */
export async function postgresCpuSeconds(databaseUrl: string): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  let dataDir: string;
  try {
    dataDir = (await client.query<{ setting: string }>("SELECT setting FROM pg_settings WHERE name = 'data_directory'"))
      .rows[0]!.setting;
  } finally {
    await client.end();
  }
  const postmaster = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  let ticks = processTicks(postmaster, true);
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (Number.isInteger(pid) && pid !== postmaster && parentOf(pid) === postmaster) ticks += processTicks(pid, false);
  }
  return ticks / TICKS_PER_SECOND;
}
