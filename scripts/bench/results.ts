import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fmt } from './support.js';

/**
 * The figures a benchmark hands to `npm run bench:perf` (scripts/bench/perf.ts) when
 * given `--json <file>`: one small document per run, so the table, the chart and the
 * README's headline are rendered from what the benches measured, never copied by hand.
 * Each bench keeps printing its own full report on stdout; this is the part that is
 * compared across benches and runs.
 */

export type BenchName = 'cdc' | 'processor' | 'snapshot';

/**
 * The columns every metric is read in: ours (this pipeline), the peer (what a user
 * might run instead) and a limit (what neither can beat on this machine, e.g.
 * PostgreSQL's own commit rate, or COPY straight into ClickHouse).
 */
export const PATH_NAMES = ['ours', 'peer', 'limit'] as const;
export type PathName = (typeof PATH_NAMES)[number];

export interface Metric {
  /** Stable across runs, e.g. `cdc.sustained`: what a later run is compared by. */
  id: string;
  label: string;
  /** As printed after the figure: `changes/s`, `ms`, `µs/event`, `MiB`. */
  unit: string;
  better: 'higher' | 'lower';
  /** Absent: the path does not apply to this metric; null: it ran and gave no figure. */
  values: Partial<Record<PathName, number | null>>;
  /** What a path is for this metric, where it differs from the bench's `paths`. */
  paths?: Partial<Record<PathName, string>>;
  goal?: { text: string; met: boolean };
}

export interface BenchResult {
  bench: BenchName;
  /** ISO 8601, UTC. */
  startedAt: string;
  finishedAt: string;
  machine: string;
  /** The command as a user would retype it (`npm run bench:cdc -- …`), without `--json`. */
  command: string;
  /** What each path is in this bench, e.g. `{ ours: 'Debezium → Kafka → ClickHouse', … }`. */
  paths: Partial<Record<PathName, string>>;
  /** The effective settings, defaults included: what the figures depend on. */
  settings: Record<string, string | number | boolean>;
  metrics: Metric[];
  /** Context a reader needs that is not a figure (the load average, why a value is missing). */
  notes?: string[];
}

/** NaN and ±Infinity (an empty percentile, a zero interval) are not figures: null. */
export const figure = (x: number | undefined): number | null => (x !== undefined && Number.isFinite(x) ? x : null);

/** Written whole or not at all (temp file + rename): perf.ts never reads half a result. */
export function writeResult(file: string, result: BenchResult): void {
  writeJson(file, result);
}

/** Any bench's JSON document, written whole or not at all (temp file + rename). */
export function writeJson(file: string, value: unknown): void {
  mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`);
  renameSync(tmp, file);
}

/** Reads a result back, refusing a file that is not one (a wrong path, an older shape). */
export function readResult(file: string): BenchResult {
  const r = JSON.parse(readFileSync(file, 'utf8')) as Partial<BenchResult>;
  const bad = (why: string) => new Error(`${file} is not a bench result: ${why}`);
  if (r.bench !== 'cdc' && r.bench !== 'processor' && r.bench !== 'snapshot') throw bad(`bench ${JSON.stringify(r.bench)}`);
  if (typeof r.startedAt !== 'string' || typeof r.machine !== 'string') throw bad('no startedAt or machine');
  if (!Array.isArray(r.metrics)) throw bad('no metrics');
  for (const m of r.metrics) {
    if (typeof m?.id !== 'string' || typeof m.values !== 'object' || m.values === null) throw bad(`metric ${JSON.stringify(m?.id)}`);
  }
  return { settings: {}, paths: {}, command: '', finishedAt: r.startedAt, ...r } as BenchResult;
}

/** `Debian GNU/Linux 12 (bookworm)`, or undefined where /etc/os-release is missing. */
function distribution(): string | undefined {
  try {
    const m = /^PRETTY_NAME=(?:"([^"]*)"|(.*))$/m.exec(readFileSync('/etc/os-release', 'utf8'));
    return m?.[1] ?? m?.[2]?.trim() ?? undefined;
  } catch {
    return undefined;
  }
}

/** e.g. `2 × AMD EPYC, 23.5 GiB RAM, Debian GNU/Linux 12 (bookworm), Linux 6.18.44, Node v20.20.2`. */
export function machineDescription(): string {
  const cpus = os.cpus();
  const distro = distribution();
  return (
    `${cpus.length} × ${cpus[0]?.model.trim() ?? 'CPU'}, ${fmt(os.totalmem() / 1024 ** 3, 1)} GiB RAM, ` +
    `${distro ? `${distro}, ` : ''}${os.type()} ${os.release()}, Node ${process.version}`
  );
}

/** The load average now, as the benches end their reports with it. */
export const loadAverage = () => os.loadavg().map((l) => fmt(l, 2)).join(' / ');

/** How this bench was started, minus `--json <file>` (a temp path says nothing about the figures). */
export function commandLine(bench: BenchName | 'kafka-auth', argv = process.argv.slice(2)): string {
  const kept: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--json') i++;
    else if (!argv[i]!.startsWith('--json=')) kept.push(argv[i]!);
  }
  return `npm run bench:${bench}${kept.length ? ` -- ${kept.join(' ')}` : ''}`;
}

/**
 * node:util parseArgs with the command line's conventions: `--help` prints the usage
 * and exits 0; an unknown flag, a stray argument or a missing value prints the error
 * and the usage on stderr and exits 2, before anything is connected or changed.
 */
export function parseOrExit<T extends { values: { help?: boolean | undefined } }>(usage: string, parse: () => T): T {
  let parsed: T;
  try {
    parsed = parse();
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (typeof code !== 'string' || !code.startsWith('ERR_PARSE_ARGS')) throw err;
    process.stderr.write(`${(err as Error).message}\n\n${usage}\n`);
    process.exit(2);
  }
  if (parsed.values.help) {
    process.stdout.write(`${usage}\n`);
    process.exit(0);
  }
  return parsed;
}
