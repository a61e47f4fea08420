/**
 * The performance benchmarks against the peer in one command: bench:cdc,
 * bench:processor and bench:snapshot one after the other (each alone on the stack:
 * run side by side they would measure each other), each writing its figures with
 * `--json` (results.ts); then the table and the chart into docs/benchmarks.md and the
 * headline into README.md (report.ts).
 *
 *   npm run bench:perf [-- --only cdc,processor] [--cdc='--changes 50000'] [--dry-run]
 *   npm run bench:perf -- --render-only <dir>     # re-render from a run's JSON files
 *
 * A bench that fails is reported in the section as not measured, and the others are
 * rendered all the same; the exit code is 1 then. Every bench's own report (stdout)
 * is kept beside its JSON, in a directory this script prints.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { chartBars, chartSpec, headline, mergeFlags, PERF_ANCHOR, perfSection, renderSvg, withHeadline, withPerfSection, type Failure } from './report.js';
import { parseOrExit, readResult, writeResult, type BenchName, type BenchResult } from './results.js';
import { say } from './support.js';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BENCHES: BenchName[] = ['cdc', 'processor', 'snapshot'];

/**
 * The fixed settings of the comparison: big enough that start-up and polling are
 * small against the figures, small enough that the whole run fits in about an hour
 * on the two-core machine.
 */
const DEFAULT_FLAGS: Record<BenchName, string[]> = {
  cdc: ['--changes', '200000', '--writers', '2', '--backlog', '1000000'],
  processor: ['--events', '100000'],
  snapshot: ['--rows', '10000000'],
};

const USAGE = `usage: npm run bench:perf -- [--only cdc,processor,snapshot] [--cdc='<flags>'] [--processor='<flags>']
                            [--snapshot='<flags>'] [--out <dir>] [--dry-run] [--render-only <dir>]
                            [--docs docs/benchmarks.md] [--readme README.md]
Runs the benches one after the other on the native stack (npm run up), then writes the
table into --docs between <!-- bench:perf:start/end -->, the chart beside it
(benchmarks/perf.svg) and the headline into --readme. Defaults, per bench:
${BENCHES.map((b) => `  ${b}: ${DEFAULT_FLAGS[b].join(' ')}`).join('\n')}
--<bench>='<flags>' replaces those flags by name and adds new ones (--cdc='--changes 50000 --skip-peer').
--out keeps the JSON files and the benches' reports (default: a new temp directory);
--render-only <dir> renders from such a directory without running anything.`;

const { values: args } = parseOrExit(USAGE, () =>
  parseArgs({
    options: {
      only: { type: 'string', default: BENCHES.join(',') },
      cdc: { type: 'string', default: '' },
      processor: { type: 'string', default: '' },
      snapshot: { type: 'string', default: '' },
      out: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      'render-only': { type: 'string' },
      docs: { type: 'string', default: 'docs/benchmarks.md' },
      readme: { type: 'string', default: 'README.md' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  }),
);

function usageError(message: string): never {
  process.stderr.write(`${message}\n\n${USAGE}\n`);
  process.exit(2);
}

const only = args.only.split(',').map((s) => s.trim()).filter(Boolean);
for (const b of only) if (!BENCHES.includes(b as BenchName)) usageError(`--only: unknown bench ${JSON.stringify(b)}`);
const selected = BENCHES.filter((b) => only.includes(b));
if (selected.length === 0) usageError('--only names no bench');
if (args['render-only'] !== undefined && args.out !== undefined) usageError('--render-only and --out: one or the other');

const flagsOf = (b: BenchName) => {
  const overrides = args[b].trim() ? args[b].trim().split(/\s+/) : [];
  if (overrides.some((f) => f === '--json' || f.startsWith('--json='))) usageError(`--${b}: --json is set by bench:perf`);
  return mergeFlags(DEFAULT_FLAGS[b], overrides);
};
const plan = selected.map((bench) => ({ bench, flags: flagsOf(bench) }));
const shown = (bench: BenchName, flags: string[]) => `npm run bench:${bench}${flags.length ? ` -- ${flags.join(' ')}` : ''}`;

// ---------------------------------------------------------------- running

let interrupts = 0;
// Ctrl-C reaches the running bench too (same process group): it stops and cleans up by
// itself, and this script waits for that, then runs nothing more.
process.on('SIGINT', () => {
  if (++interrupts > 1) process.exit(130);
  say('bench:perf: interrupted; waiting for the running bench to clean up, then stopping (Ctrl-C again to leave at once) …');
});

interface Ran {
  code: number;
  /** The last lines it wrote on stderr: why it failed, if it did. */
  tail: string;
}

/**
 * One bench's npm script. With `reportFile`, its stdout (the report) is kept there and,
 * like its stderr, passed on to our stderr; without, it runs silently.
 */
function runScript(bench: BenchName, flags: string[], reportFile?: string): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['run', '--silent', `bench:${bench}`, '--', ...flags], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let report = '';
    let tail = '';
    child.stdout.on('data', (d: Buffer) => {
      if (!reportFile) return;
      report += d.toString();
      process.stderr.write(d);
    });
    child.stderr.on('data', (d: Buffer) => {
      tail = (tail + d.toString()).slice(-4000);
      if (reportFile) process.stderr.write(d);
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (reportFile) writeFileSync(reportFile, report);
      resolve({ code: code ?? (signal === 'SIGINT' ? 130 : 1), tail });
    });
  });
}

/**
 * Why a bench failed, from the end of its stderr: the last line that names an error
 * (not a stack frame), paths inside the repository shortened to relative ones.
 */
function reasonOf(tail: string): string {
  const lines = tail
    .split('\n')
    .map((l) => l.replace(/^npm error /, '').split(`${REPO_ROOT}/`).join('').trim())
    .filter((l) => l && !l.startsWith('at ') && !/^[{}[\]]/.test(l));
  return [...lines].reverse().find((l) => /error|failed|timed out|refused|not /i.test(l)) ?? lines[lines.length - 1] ?? 'no output';
}

/**
 * Each selected bench with its flags and `--help`: an unknown flag (exit 2) stops
 * everything before an hour is spent on the benches before it; a bench that cannot
 * start at all (no such script yet) is reported and skipped.
 */
async function preflight(): Promise<Failure[]> {
  const failures: Failure[] = [];
  // npm --silent says nothing about a missing script: look first.
  const scripts = (JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts?: Record<string, string> }).scripts ?? {};
  for (const { bench, flags } of plan) {
    if (!scripts[`bench:${bench}`]) {
      failures.push({ bench, command: shown(bench, flags), reason: `not run: package.json has no script bench:${bench}` });
      continue;
    }
    const r = await runScript(bench, [...flags, '--help']);
    // parseOrExit (results.ts) prints the error first, then the usage.
    if (r.code === 2) usageError(`${shown(bench, flags)}: ${r.tail.split('\n').find((l) => l.trim()) ?? 'refused its flags'}`);
    if (r.code !== 0) failures.push({ bench, command: shown(bench, flags), reason: `could not start (exit code ${r.code}): ${reasonOf(r.tail)}` });
  }
  return failures;
}

async function runAll(out: string, failures: Failure[]): Promise<{ results: BenchResult[]; failures: Failure[] }> {
  const results: BenchResult[] = [];
  for (const { bench, flags } of plan) {
    if (failures.some((f) => f.bench === bench)) continue;
    if (interrupts > 0) {
      failures.push({ bench, command: shown(bench, flags), reason: 'not run: interrupted' });
      continue;
    }
    const json = path.join(out, `${bench}.json`);
    const started = Date.now();
    say(`\nbench:perf: ${shown(bench, flags)} …`);
    const r = await runScript(bench, [...flags, '--json', json], path.join(out, `${bench}.md`));
    const minutes = ((Date.now() - started) / 60_000).toFixed(1);
    // A bench writes its JSON once its figures are taken; a cleanup that fails after
    // that still exits 1, and the figures stand, with a note.
    const result = existsSync(json) ? readResult(json) : undefined;
    if (result) {
      if (r.code !== 0) {
        (result.notes ??= []).push(`the bench exited with code ${r.code} after taking its figures: ${reasonOf(r.tail)}`);
        writeResult(json, result); // so that --render-only says it too
      }
      results.push(result);
    } else {
      failures.push({ bench, command: shown(bench, flags), reason: `exited with code ${r.code} after ${minutes} min: ${reasonOf(r.tail)}` });
    }
    say(`bench:perf: ${bench} ${result ? 'done' : 'FAILED'} in ${minutes} min (exit code ${r.code})`);
  }
  writeFileSync(path.join(out, 'failures.json'), `${JSON.stringify(failures, null, 2)}\n`);
  return { results, failures };
}

/** A run's results back from its directory, as if it had just ended. */
function readRun(dir: string): { results: BenchResult[]; failures: Failure[] } {
  const results: BenchResult[] = [];
  const recorded: Failure[] = existsSync(path.join(dir, 'failures.json'))
    ? (JSON.parse(readFileSync(path.join(dir, 'failures.json'), 'utf8')) as Failure[])
    : [];
  const failures = recorded.filter((f) => selected.includes(f.bench));
  for (const { bench, flags } of plan) {
    const file = path.join(dir, `${bench}.json`);
    if (existsSync(file)) results.push(readResult(file));
    else if (!failures.some((f) => f.bench === bench)) failures.push({ bench, command: shown(bench, flags), reason: 'no result in the directory rendered from' });
  }
  return { results, failures };
}

// ---------------------------------------------------------------- rendering

async function render(run: { results: BenchResult[]; failures: Failure[] }): Promise<void> {
  const docsFile = path.resolve(args.docs);
  const readmeFile = path.resolve(args.readme);
  let chartLink: string | undefined;
  if (chartBars(run.results).length > 0) {
    const svgFile = path.join(path.dirname(docsFile), 'benchmarks', 'perf.svg');
    mkdirSync(path.dirname(svgFile), { recursive: true });
    writeFileSync(svgFile, `${await renderSvg(chartSpec(run))}\n`);
    chartLink = path.relative(path.dirname(docsFile), svgFile).split(path.sep).join('/');
    say(`bench:perf: chart written to ${path.relative(process.cwd(), svgFile)}`);
  }
  const section = perfSection(run, chartLink);
  writeFileSync(docsFile, withPerfSection(readFileSync(docsFile, 'utf8'), section));
  const docsLink = `${path.relative(path.dirname(readmeFile), docsFile).split(path.sep).join('/')}#${PERF_ANCHOR}`;
  writeFileSync(readmeFile, withHeadline(readFileSync(readmeFile, 'utf8'), headline(run, docsLink)));
  say(`bench:perf: ${path.relative(process.cwd(), docsFile)} and ${path.relative(process.cwd(), readmeFile)} updated`);
  console.log(section);
}

async function main(): Promise<void> {
  if (args['dry-run']) {
    const out = args.out ?? '<a new temp directory>';
    for (const { bench, flags } of plan) console.log(shown(bench, [...flags, '--json', path.join(out, `${bench}.json`)]));
    return;
  }
  let run: { results: BenchResult[]; failures: Failure[] };
  if (args['render-only'] !== undefined) {
    run = readRun(path.resolve(args['render-only']));
  } else {
    const failures = await preflight();
    const out = args.out ? path.resolve(args.out) : mkdtempSync(path.join(os.tmpdir(), 'bench-perf-'));
    mkdirSync(out, { recursive: true });
    say(`bench:perf: results and reports go to ${out}`);
    run = await runAll(out, failures);
    say(`bench:perf: to render again from them: npm run bench:perf -- --render-only ${out}`);
    if (interrupts > 0) {
      say('bench:perf: interrupted: docs left as they were');
      process.exitCode = 130;
      return;
    }
  }
  for (const f of run.failures) say(`bench:perf: not measured: ${f.command} ${f.reason}`);
  if (run.results.length === 0) {
    // The last good figures stay in the docs rather than a section saying nothing.
    say('bench:perf: no bench gave a result: docs left as they were');
    process.exitCode = 1;
    return;
  }
  await render(run);
  process.exitCode = run.failures.length > 0 ? 1 : 0;
}

await main();
