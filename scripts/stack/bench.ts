import os from 'node:os';
import { loadDotEnv } from '@cdc/config';
import { loadStackConfig } from './config.js';
import { down, status, up } from './stack.js';

/**
 * Warm start and idle memory of the native stack, as the README reports them:
 * `down`, then a timed `up` of every component (data and downloads already in
 * place), then the resident memory of each process tree after it has settled.
 * Usage: npm run bench:stack [-- --settle 20]
 */
loadDotEnv();
const config = loadStackConfig();
const settleS = Number(process.argv[process.argv.indexOf('--settle') + 1]) || 20;

await down(config);
const t0 = performance.now();
const report = await up(config);
const warmS = (performance.now() - t0) / 1000;
await new Promise((r) => setTimeout(r, settleS * 1000));
const lines = await status(config);
const mib = (kb: number) => kb / 1024;
const totalMib = mib(lines.reduce((sum, s) => sum + (s.rssKb ?? 0), 0));

console.log(`### Native stack: warm start and idle memory

Date: ${new Date().toISOString()}. Machine: ${os.cpus().length} × ${os.cpus()[0]?.model.trim()}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}.

| component | start (s) | RSS after ${settleS} s idle (MiB) |
|---|---|---|
${lines
  .map((s) => `| ${s.name} | ${report.find((r) => r.name === s.name)?.seconds.toFixed(1) ?? '-'} | ${s.rssKb === undefined ? '-' : mib(s.rssKb).toFixed(0)} |`)
  .join('\n')}
| **total** | **${warmS.toFixed(1)}** (goal ≤ 60) | **${totalMib.toFixed(0)}** (goal ≤ 3072) |`);
if (!lines.every((s) => s.health.ok)) {
  console.error('not every component is healthy:', lines.filter((s) => !s.health.ok).map((s) => s.name).join(', '));
  process.exit(1);
}
