// One `run` in this process; prints a JSON line with wall time and peak RSS. Spawned by bench/trainer-run.ts.
import { Writable } from 'node:stream';
import { runCli } from '@fallback-ctr/trainer';

const started = Date.now();
let rssPeak = 0;
const sampler = setInterval(() => {
  rssPeak = Math.max(rssPeak, process.memoryUsage.rss());
}, 100);
const phases: Record<string, number> = {};
let holdoutLogloss: number | null = null;
const logs = new Writable({
  write(chunk, _enc, cb) {
    for (const line of String(chunk).split('\n')) {
      if (!line.trim()) continue;
      const l = JSON.parse(line) as { msg: string; candidate?: { logloss?: number } };
      if (l.msg === 'holdout evaluated' && typeof l.candidate?.logloss === 'number')
        holdoutLogloss = l.candidate.logloss;
      const key = l.msg.replace(/ \d.*$/, '').slice(0, 40);
      phases[key] = Date.now() - started;
      if (process.env.BENCH_RSS_TRACE)
        process.stderr.write(
          `${key}: rss ${Math.round(process.memoryUsage.rss() / 1048576)} MB heap ${Math.round(process.memoryUsage().heapUsed / 1048576)} MB\n`,
        );
      if (l.msg.startsWith('outcome') || l.msg.includes('failed')) process.stderr.write(`${l.msg}\n`);
    }
    cb();
  },
});
const code = await runCli(['run'], { logDestination: logs });
clearInterval(sampler);
const usage = process.resourceUsage();
const maxRssKb = usage.maxRSS;
const cpuMs = (usage.userCPUTime + usage.systemCPUTime) / 1000;
process.stdout.write(
  `${JSON.stringify({ code, wallMs: Date.now() - started, maxRssMb: Math.round(maxRssKb / 1024), cpuMs, holdoutLogloss, sampledPeakRssMb: Math.round(rssPeak / 1048576), phases })}\n`,
);
