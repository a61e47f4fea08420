/**
 * Stream-processor benchmark: events/s and memory of apps/stream-processor (goal:
 * ≤ 256 MB RSS under load), side by side with the ClickHouse Kafka-engine path that
 * consumes the same topic (telemetry.public.telemetry_events) in the same run.
 *
 *   npx tsx scripts/bench/processor.ts [--events 200000] [--skip-wait] [--json <file>]
 *
 * Why both at once: they read the same Debezium topic and write into the same chDB
 * process, on the same cores as PostgreSQL, Kafka and Connect; measured together,
 * each figure includes the other's load, as it does in production.
 *
 * The processor under test is the production one with the production consumer-group
 * prefix (STREAM_PROCESSOR_GROUP, default `stream-processor`), so its analytics tables
 * stay consistent with everything it has processed before. Only one processor may
 * write them (the aggregates are recomputed; two writers could interleave), so the
 * stack's instance is stopped for the run and restored at the end. This script spawns
 * its own instance exactly as the stack and tests/support/apps.ts do (node --import
 * tsx apps/stream-processor/src/main.ts), because it needs the child's pid to read
 * its RSS.
 *
 * Before the clock starts the processor must have caught up (its committed offsets
 * at the topic's high watermarks): a backlog would be timed as if it were the bench's.
 * --skip-wait skips that wait (a quick try; the figures then include any backlog).
 *
 * Workload: N events (default 200,000) inserted into telemetry_db.telemetry_events
 * as fast as one connection takes them, in multi-row INSERT … SELECT unnest(…) of
 * 5,000 rows (autocommit: one commit per statement). Payloads are deterministic
 * (mulberry32; the rows are generated before the clock starts, so the writer's rate
 * is PostgreSQL's); event_uuids are fresh on every run. Rows use the dedicated user_id
 * range [960,000,000, 961,000,000), 300 distinct users (unknown to the CRM, so the
 * processor stores them user-less), event_timestamps rising with the rows over 3 hours
 * of 2027-01-10, a window no other data uses, so the processor's recomputes touch only
 * bench minutes. Rising, because sensors send their events in time order: a chunk
 * touches the minutes it covers, not every minute of the window.
 *
 * Throughput: every rate is N / (moment it was done − first commit), PostgreSQL's
 * own "done" being its last commit: the commit rate is the writer's ceiling, and the
 * ratio of a path to it is how close the path keeps up. Done means, polled every
 * 250 ms:
 * - Kafka-engine path: count() of the bench range in default.telemetry_events FINAL = N;
 * - processor: its committed offsets at the high watermarks read once the topic had
 *   grown by N (all bench messages are in Kafka by then; the processor commits a
 *   chunk only after its rows were written and its aggregates recomputed), watched
 *   through Kafka alone so the polling takes no ClickHouse time from the processor;
 *   then one count() of the bench range in analytics.telemetry_enriched FINAL must be N.
 *
 * Memory: VmRSS (/proc/<pid>/status) of the processor, and of the chDB server for
 * context, every 200 ms from the first statement until each is done: peak and median.
 *
 * Freshness (PostgreSQL commit → in ClickHouse), over the bench rows: the Kafka-engine
 * path's _ingested_at − _source_ts, the processor's _processed_at − _source_ts (both
 * per event, stamped by chDB at the insert), and the processor's own
 * cdc_processor_freshness_seconds histogram (per chunk, after the recompute;
 * quantiles interpolated within its buckets, as Prometheus' histogram_quantile does).
 *
 * Cleanup (finally, also after Ctrl-C): the bench rows are deleted from PostgreSQL,
 * both paths are waited for to apply the deletes (bounded), the spawned processor is
 * stopped, the bench range is purged from ClickHouse (purgeBenchRows) and the stack's
 * instance restored if it was running.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ClickHouseLogLevel, createClient } from '@clickhouse/client';
import { Kafka, logLevel } from 'kafkajs';
import { createKafka, kafkaAccess } from '@cdc/kafka';
import pg from 'pg';
import { loadDotEnv, loadEndpoints } from '@cdc/config';
import { mulberry32 } from '../import/generator.js';
import { loadStackConfig } from '../stack/config.js';
import { components, pauseComponent, STREAM_PROCESSOR_ENV, STREAM_PROCESSOR_HEAP } from '../stack/stack.js';
import { checkStop, fmt, now, percentile, runBench, say, secs, stopOnInterrupt, until } from './support.js';
import { freePort } from '../lib/net.js';
import { cpuSecondsOf } from './cpu.js';
import { commandLine, figure, loadAverage, machineDescription, parseOrExit, writeResult } from './results.js';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const USER_MIN = 960_000_000;
const USER_MAX = USER_MIN + 1_000_000; // exclusive
const USERS = 300;
const STATEMENT_ROWS = 5_000;
const T0 = Date.parse('2027-01-10T00:00:00Z');
const SPREAD_MS = 3 * 3600_000;
const RSS_EVERY_MS = 200;
const POLL_MS = 250;
const GOAL_RSS_MB = 256;
const TOPIC = 'telemetry.public.telemetry_events';

const USAGE = `usage: npm run bench:processor -- [--events 200000] [--skip-wait] [--json <file>]
Needs the native stack (npm run up); stops the stack's stream processor for the run and
restores it. The report goes to stdout, progress to stderr; --json also writes the key
figures for npm run bench:perf (scripts/bench/results.ts).`;
const { values: args } = parseOrExit(USAGE, () =>
  parseArgs({
    options: {
      events: { type: 'string', default: '200000' },
      'skip-wait': { type: 'boolean', default: false },
      json: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  }),
);
const N = Math.floor(Number(args.events));
if (!Number.isFinite(N) || N < 1) throw new Error('--events must be a positive integer');

loadDotEnv(path.join(REPO_ROOT, '.env'));
const env = loadEndpoints();
const GROUP_PREFIX = process.env.STREAM_PROCESSOR_GROUP ?? 'stream-processor';
const ENRICH_GROUP = `${GROUP_PREFIX}-enrich`;

// ---------------------------------------------------------------- clients

// Writer and checks on their own connections: a check must not queue behind a
// 5,000-row statement.
const pool = new pg.Pool({ connectionString: env.TELEMETRY_DATABASE_URL, max: 3 });
const ch = createClient({
  url: env.CLICKHOUSE_URL,
  username: env.CLICKHOUSE_USER,
  password: env.CLICKHOUSE_PASSWORD,
  request_timeout: 120_000,
  // Poll errors are retried; the client's own log would print each one.
  log: { level: ClickHouseLogLevel.OFF },
});
const kafka = createKafka({ ...kafkaAccess(env), logLevel: 'silent' }, 'bench-processor');
const admin = kafka.admin();

async function chRows<T>(query: string): Promise<T[]> {
  const rs = await ch.query({ query, format: 'JSONEachRow', clickhouse_settings: { output_format_json_quote_64bit_integers: 0 } });
  return rs.json<T>();
}

// ---------------------------------------------------------------- stop on Ctrl-C

stopOnInterrupt();

// ---------------------------------------------------------------- helpers

const mib = (kb: number) => `${fmt(kb / 1024)} MiB`;

// ---------------------------------------------------------------- the bench range

const RANGE = `user_id >= ${USER_MIN} AND user_id < ${USER_MAX}`;
const chTs = (ms: number) => `toDateTime64('${new Date(ms).toISOString().replace('T', ' ').replace('Z', '')}', 6, 'UTC')`;
// The extra conditions are on each table's sorting key, so FINAL merges only the
// bench's ranges, not the whole table, at every poll. default.telemetry_events is
// sorted by id: `idFloor` (the largest id before the run) bounds it during the
// phase; the cleanup polls go without, to also see leftovers of an earlier run.
let idFloor = 0;
const kafkaPathWhere = (withFloor: boolean) => `${RANGE}${withFloor ? ` AND id > ${idFloor}` : ''}`;
// analytics.telemetry_enriched is sorted by minute first; the bench's window is fixed.
const ENRICHED_WHERE = `${RANGE} AND event_timestamp >= ${chTs(T0)} AND event_timestamp < ${chTs(T0 + SPREAD_MS)}`;

async function kafkaPathCount(withFloor = true): Promise<number> {
  const [r] = await chRows<{ n: number }>(`SELECT count() AS n FROM default.telemetry_events FINAL WHERE ${kafkaPathWhere(withFloor)}`);
  return Number(r?.n ?? 0);
}
async function processorCount(): Promise<number> {
  const [r] = await chRows<{ n: number }>(`SELECT count() AS n FROM analytics.telemetry_enriched FINAL WHERE ${ENRICHED_WHERE}`);
  return Number(r?.n ?? 0);
}

// ---------------------------------------------------------------- Kafka offsets

type Offsets = Map<number, { high: bigint; low: bigint }>;

async function highWatermarks(): Promise<Offsets> {
  const parts = await admin.fetchTopicOffsets(TOPIC);
  return new Map(parts.map((p) => [p.partition, { high: BigInt(p.high), low: BigInt(p.low) }]));
}

/** The enrich group's committed offsets (-1: nothing committed on that partition). */
async function committedOffsets(): Promise<Map<number, bigint>> {
  const [t] = await admin.fetchOffsets({ groupId: ENRICH_GROUP, topics: [TOPIC] });
  return new Map((t?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]));
}

/** Messages between the committed offsets and `target` (0: caught up). */
function lag(committed: Map<number, bigint>, target: Offsets): bigint {
  let behind = 0n;
  for (const [partition, { high, low }] of target) {
    // Nothing committed on a partition that holds nothing (any more) is caught up too.
    const c = committed.get(partition) ?? -1n;
    const from = c < 0n ? low : c;
    if (from < high) behind += high - from;
  }
  return behind;
}

// ---------------------------------------------------------------- the processor

interface Spawned {
  child: ChildProcess;
  pid: number;
  url: string;
  stderr: () => string;
}

let spawned: Spawned | undefined;
// Whatever happens (second Ctrl-C, an uncaught error), no orphan keeps consuming in
// the production group after the stack's instance is back.
process.on('exit', () => {
  if (spawned && spawned.child.exitCode === null && spawned.child.signalCode === null) spawned.child.kill('SIGKILL');
});

async function spawnProcessor(): Promise<Spawned> {
  const port = await freePort();
  // The same Node flags and settings (Avro output topic included) as the stack's instance.
  const child = spawn(process.execPath, [STREAM_PROCESSOR_HEAP, '--import', 'tsx', 'apps/stream-processor/src/main.ts'], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      ...STREAM_PROCESSOR_ENV,
      HOST: '127.0.0.1',
      STREAM_PROCESSOR_PORT: String(port),
      STREAM_PROCESSOR_GROUP: GROUP_PREFIX,
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
    // Its own process group: a Ctrl-C in the terminal reaches only this script, which
    // keeps the processor running until it has applied the cleanup's deletes.
    detached: true,
  });
  if (child.pid === undefined) throw new Error('could not spawn the stream processor');
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const s: Spawned = { child, pid: child.pid, url: `http://127.0.0.1:${port}`, stderr: () => stderr };
  spawned = s;
  // /ready, not /health: ready means the user dimension has caught up and the
  // enrichment consumer has joined its group.
  await until('the stream processor to be ready', 180_000, 200, async () => {
    if (child.exitCode !== null) throw new Error(`the stream processor exited with ${child.exitCode}: ${stderr}`);
    const res = await fetch(`${s.url}/ready`, { signal: AbortSignal.timeout(1000) }).catch(() => undefined);
    return res?.ok ? true : undefined;
  });
  return s;
}

async function stopProcessor(): Promise<void> {
  const s = spawned;
  if (!s || s.child.exitCode !== null || s.child.signalCode !== null) return;
  // SIGTERM: it finishes its batch and leaves the group; SIGKILL only if it overruns.
  s.child.kill('SIGTERM');
  const exited = once(s.child, 'exit');
  const timer = setTimeout(() => s.child.kill('SIGKILL'), 20_000);
  await exited;
  clearTimeout(timer);
}

// ---------------------------------------------------------------- memory

/** VmRSS in KiB, undefined once the process is gone. */
function rssKb(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

interface Sample {
  t: number;
  kb: number;
}

function startSampling(pids: Record<string, number | undefined>): { samples: Record<string, Sample[]>; stop: () => void } {
  const samples: Record<string, Sample[]> = {};
  for (const name of Object.keys(pids)) samples[name] = [];
  const tick = () => {
    const t = now();
    for (const [name, pid] of Object.entries(pids)) {
      const kb = pid === undefined ? undefined : rssKb(pid);
      if (kb !== undefined) samples[name]!.push({ t, kb });
    }
  };
  tick();
  const timer = setInterval(tick, RSS_EVERY_MS);
  return { samples, stop: () => clearInterval(timer) };
}

function rssStats(samples: Sample[], from: number, to: number): { peak: number; median: number; n: number } {
  const kbs = samples.filter((s) => s.t >= from && s.t <= to).map((s) => s.kb);
  return { peak: kbs.length ? Math.max(...kbs) : Number.NaN, median: percentile(kbs, 50), n: kbs.length };
}

// ---------------------------------------------------------------- freshness histogram

type Buckets = Map<number, number>; // upper bound (Infinity for +Inf) → cumulative count

async function freshnessBuckets(url: string): Promise<Buckets> {
  const text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
  const buckets: Buckets = new Map();
  for (const line of text.split('\n')) {
    const m = /^cdc_processor_freshness_seconds_bucket\{([^}]*)\}\s+(\S+)/.exec(line);
    const le = m && /le="([^"]+)"/.exec(m[1]!)?.[1];
    if (!m || le === undefined) continue;
    buckets.set(le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le), Number(m[2]));
  }
  return buckets;
}

/** histogram_quantile over the difference of two snapshots: the phase's observations only. */
function histogramQuantile(before: Buckets, after: Buckets, q: number): { seconds: number; n: number; bucket: string } {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const counts = bounds.map((b) => (after.get(b) ?? 0) - (before.get(b) ?? 0));
  const total = counts[counts.length - 1] ?? 0;
  if (total <= 0) return { seconds: Number.NaN, n: 0, bucket: '–' };
  const rank = q * total;
  for (let i = 0; i < bounds.length; i++) {
    if (counts[i]! < rank) continue;
    const upper = bounds[i]!;
    const lower = i === 0 ? 0 : bounds[i - 1]!;
    // The bucket is all the histogram knows; the interpolation can be far off in a wide one.
    const bucket = `(${lower} s, ${Number.isFinite(upper) ? `${upper} s` : '∞'}]`;
    // In the +Inf bucket the best one can say is "above the highest finite bound".
    if (!Number.isFinite(upper)) return { seconds: lower, n: total, bucket };
    const below = i === 0 ? 0 : counts[i - 1]!;
    const inBucket = counts[i]! - below;
    return { seconds: lower + (upper - lower) * (inBucket > 0 ? (rank - below) / inBucket : 1), n: total, bucket };
  }
  return { seconds: Number.NaN, n: total, bucket: '–' };
}

// ---------------------------------------------------------------- workload

const PROSTHESES = ['myoelectric_hand', 'bionic_arm', 'body_powered_hook', 'hybrid_elbow', 'multi_articulating_hand'];
const MUSCLES = ['forearm_flexors', 'forearm_extensors', 'biceps', 'triceps', 'deltoid', 'pectoralis'];
const INSERT = `
  INSERT INTO public.telemetry_events (event_uuid, user_id, prosthesis_type, muscle_group, signal_frequency,
                                       signal_duration, signal_amplitude, event_timestamp)
  SELECT * FROM unnest($1::uuid[], $2::int[], $3::text[], $4::text[], $5::int[], $6::int[], $7::float8[],
                       $8::timestamptz[])`;
type Columns = [string[], number[], string[], string[], number[], number[], number[], string[]];

/** Every statement's parameters, built before the clock starts. */
function generate(n: number, seed: number): Columns[] {
  const rnd = mulberry32(seed);
  const statements: Columns[] = [];
  for (let done = 0; done < n; done += STATEMENT_ROWS) {
    const cols: Columns = [[], [], [], [], [], [], [], []];
    for (let i = 0; i < Math.min(STATEMENT_ROWS, n - done); i++) {
      cols[0].push(randomUUID());
      cols[1].push(USER_MIN + Math.floor(rnd() * USERS));
      cols[2].push(PROSTHESES[Math.floor(rnd() * PROSTHESES.length)]!);
      cols[3].push(MUSCLES[Math.floor(rnd() * MUSCLES.length)]!);
      cols[4].push(500 + Math.floor(rnd() * 1500));
      cols[5].push(Math.floor(rnd() * 1000));
      cols[6].push(Math.round(rnd() * 5_000_000) / 1_000_000);
      cols[7].push(new Date(T0 + Math.floor(((done + i + rnd()) / (n + 1)) * SPREAD_MS)).toISOString());
    }
    statements.push(cols);
  }
  return statements;
}

// ---------------------------------------------------------------- phases

async function waitCaughtUp(timeoutMs: number): Promise<void> {
  let lastSaid = 0;
  await until(`${ENRICH_GROUP} to catch up with ${TOPIC}`, timeoutMs, 500, async () => {
    const behind = lag(await committedOffsets(), await highWatermarks());
    if (behind === 0n) return true;
    if (now() - lastSaid > 5_000) {
      lastSaid = now();
      say(`  … ${ENRICH_GROUP}: ${fmt(Number(behind))} message(s) behind`);
    }
    return undefined;
  });
}

/** Both paths show the bench range empty (bounded: the cleanup must end). */
async function waitEmpty(timeoutMs: number, processorToo: boolean): Promise<void> {
  const checks: Promise<unknown>[] = [
    until('the bench range to be empty in default.telemetry_events', timeoutMs, 1_000, async () =>
      (await kafkaPathCount(false)) === 0 ? true : undefined,
    ),
  ];
  if (processorToo) {
    checks.push(
      until('the bench range to be empty in analytics.telemetry_enriched', timeoutMs, 1_000, async () =>
        (await processorCount()) === 0 ? true : undefined,
      ),
    );
  }
  const results = await Promise.allSettled(checks);
  for (const r of results) if (r.status === 'rejected') say(`  warning: ${String(r.reason)}`);
}

async function deleteBenchRows(): Promise<number> {
  const { rowCount } = await pool.query(`DELETE FROM public.telemetry_events WHERE ${RANGE}`);
  return rowCount ?? 0;
}

interface Result {
  t0: number;
  firstCommit: number;
  lastCommit: number;
  kafkaDone: number;
  processorDone: number;
  rss: Record<string, Sample[]>;
  rssIdleKb: number | undefined;
  /** The processor's CPU seconds from the first statement until it was done. */
  processorCpu: number | undefined;
  histBefore: Buckets;
  histAfter: Buckets;
}

async function timedPhase(p: Spawned, chdbPid: number | undefined): Promise<Result> {
  say(`generating ${fmt(N)} events (${Math.ceil(N / STATEMENT_ROWS)} statements of ≤ ${fmt(STATEMENT_ROWS)} rows) …`);
  const statements = generate(N, 20_270_110);
  const { rows } = await pool.query<{ max: string | null }>('SELECT max(id) AS max FROM public.telemetry_events');
  idFloor = Number(rows[0]?.max ?? 0);
  const histBefore = await freshnessBuckets(p.url);
  const rssIdleKb = rssKb(p.pid);
  const hwBefore = await highWatermarks();

  say(`timed phase: writing ${fmt(N)} events …`);
  const sampler = startSampling({ processor: p.pid, chdb: chdbPid });
  try {
    const client = await pool.connect();
    let firstCommit = 0;
    let lastCommit = 0;
    const t0 = now();
    const cpuAtStart = cpuSecondsOf(p.pid);
    let processorCpu: number | undefined;
    try {
      for (const [i, cols] of statements.entries()) {
        checkStop();
        await client.query(INSERT, cols);
        lastCommit = now();
        if (i === 0) firstCommit = lastCommit;
        if ((i + 1) % 10 === 0) say(`  ${fmt(Math.min(N, (i + 1) * STATEMENT_ROWS))} events committed`);
      }
    } finally {
      client.release();
    }
    const pgRate = N / ((lastCommit - firstCommit) / 1000);
    say(`  PostgreSQL: ${fmt(N)} events in ${secs(lastCommit - t0)}, last commit ${secs(lastCommit - firstCommit)} after the first (${fmt(pgRate)}/s)`);
    const hwAfterInsert = await highWatermarks();

    const report = (name: string, done: number) =>
      say(`  ${name}: done ${secs(done - firstCommit)} after the first commit (${secs(done - lastCommit)} after the last), ${fmt(N / ((done - firstCommit) / 1000))} events/s`);

    const kafkaPath = async () => {
      let lastSaid = now();
      const done = await until('the Kafka-engine path to hold every bench event', 600_000, POLL_MS, async () => {
        const n = await kafkaPathCount().catch(() => -1);
        const t = now();
        if (n === N) return t;
        if (t - lastSaid > 5_000) {
          lastSaid = t;
          say(`  … Kafka-engine path: ${fmt(n)} of ${fmt(N)}`);
        }
        return undefined;
      });
      report('Kafka-engine path', done);
      return done;
    };

    // Watched through Kafka alone: chDB runs one query at a time, so polling a FINAL
    // count of the analytics tables would take ClickHouse time from the processor it
    // measures (measured: ~0.75 s per poll, 40 % of the phase). The processor commits
    // offsets only after its writes, so "committed up to the bench's last message" is
    // "written"; one count at the end checks it.
    const added = (hw: Offsets) => [...hw].reduce((sum, [part, o]) => sum + o.high - (hwBefore.get(part)?.high ?? 0n), 0n);
    const processorPath = async () => {
      let target: Offsets | undefined;
      let lastSaid = now();
      const done = await until('the stream processor to process and commit every bench event', 600_000, POLL_MS, async () => {
        if (p.child.exitCode !== null) throw new Error(`the stream processor exited with ${p.child.exitCode}: ${p.stderr()}`);
        if (!target) {
          // Debezium has produced every bench event once the topic grew by N.
          const hw = await highWatermarks();
          if (added(hw) >= BigInt(N)) target = hw;
        }
        const behind = lag(await committedOffsets(), target ?? hwAfterInsert);
        if (target && behind === 0n) {
          const cpu = cpuSecondsOf(p.pid);
          if (cpu !== undefined && cpuAtStart !== undefined) processorCpu = cpu - cpuAtStart;
          return now();
        }
        const t = now();
        if (t - lastSaid > 5_000) {
          lastSaid = t;
          say(`  … processor: ${fmt(Number(behind))} message(s) not yet committed${target ? '' : ' (Debezium still producing)'}`);
        }
        return undefined;
      });
      const n = await processorCount();
      if (n !== N) throw new Error(`the processor committed every offset but holds ${n} of ${N} bench events`);
      report('stream processor', done);
      return done;
    };

    const [kafkaDone, processorDone] = await Promise.all([kafkaPath(), processorPath()]);
    const histAfter = await freshnessBuckets(p.url);
    return { t0, firstCommit, lastCommit, kafkaDone, processorDone, rss: sampler.samples, rssIdleKb, processorCpu, histBefore, histAfter };
  } finally {
    sampler.stop();
  }
}

interface Lag {
  p50: number;
  p99: number;
  max: number;
  n: number;
}

async function lagOf(table: string, where: string, stamp: string): Promise<Lag> {
  const [r] = await chRows<Lag>(
    `SELECT quantileExact(0.5)(d) AS p50, quantileExact(0.99)(d) AS p99, max(d) AS max, count() AS n
       FROM (SELECT dateDiff('millisecond', _source_ts, ${stamp}) AS d FROM ${table} FINAL WHERE ${where})`,
  );
  return { p50: Number(r?.p50), p99: Number(r?.p99), max: Number(r?.max), n: Number(r?.n ?? 0) };
}

// ---------------------------------------------------------------- main

const stackConfig = loadStackConfig();
const stackProcessor = components(stackConfig).find((c) => c.name === 'stream-processor')!;
let resumeStackProcessor: (() => Promise<void>) | undefined;

async function main(): Promise<void> {
  const startedAt = new Date().toISOString();
  const connector = await fetch(`${env.KAFKA_CONNECT_URL}/connectors/telemetry-connector/status`)
    .then((r) => r.json() as Promise<{ connector?: { state?: string }; tasks?: { state?: string }[] }>)
    .catch(() => undefined);
  const running = connector?.connector?.state === 'RUNNING' && connector.tasks?.every((t) => t.state === 'RUNNING');
  if (!running) throw new Error(`telemetry-connector is not RUNNING at ${env.KAFKA_CONNECT_URL}: ${JSON.stringify(connector)}`);
  await admin.connect();

  const paused = await pauseComponent(stackConfig, 'stream-processor');
  if (paused.wasRunning) {
    say("stopped the stack's stream-processor; it is restored at the end");
    resumeStackProcessor = paused.resume;
  }
  say(`starting a stream processor (group ${ENRICH_GROUP}) …`);
  const p = await spawnProcessor();
  say(`  pid ${p.pid}, ${p.url}, ready`);

  const leftovers = await deleteBenchRows();
  if (leftovers > 0) {
    say(`deleted ${fmt(leftovers)} leftover bench row(s) of an earlier run; waiting for both paths to apply it …`);
    await waitEmpty(600_000, true);
  }
  if (args['skip-wait']) {
    say('--skip-wait: not waiting for the processor to catch up (figures include any backlog)');
  } else {
    say(`waiting for ${ENRICH_GROUP} to catch up with ${TOPIC} …`);
    await waitCaughtUp(1_800_000);
  }
  // Also the Kafka engine: its backlog would be timed as the bench's too.
  if ((await kafkaPathCount(false)) !== 0) throw new Error('the bench range is not empty in default.telemetry_events');
  if (stackProcessor.pid() !== undefined) throw new Error("the stack's stream-processor was started again meanwhile: two writers");

  const chdbPidRaw = Number(readFileSync(path.join(stackConfig.runDir, 'clickhouse.pid'), 'utf8').trim());
  const chdbPid = rssKb(chdbPidRaw) !== undefined ? chdbPidRaw : undefined;
  const r = await timedPhase(p, chdbPid);

  // ---------------------------------------------------------------- figures
  const since = (t: number) => (t - r.firstCommit) / 1000;
  const pgRate = N / since(r.lastCommit);
  const procRate = N / since(r.processorDone);
  const kafkaRate = N / since(r.kafkaDone);
  const procRss = rssStats(r.rss.processor ?? [], r.t0, r.processorDone);
  const chdbRss = rssStats(r.rss.chdb ?? [], r.t0, Math.max(r.kafkaDone, r.processorDone));
  const kafkaLag = await lagOf('default.telemetry_events', kafkaPathWhere(true), '_ingested_at');
  const procLag = await lagOf('analytics.telemetry_enriched', ENRICHED_WHERE, '_processed_at');
  const h50 = histogramQuantile(r.histBefore, r.histAfter, 0.5);
  const h99 = histogramQuantile(r.histBefore, r.histAfter, 0.99);
  const met = procRss.peak / 1024 <= GOAL_RSS_MB;

  const ms = (x: number) => (Number.isFinite(x) ? `${fmt(x)} ms` : '–');
  const lines = [
    '### Stream-processor benchmark: events/s and memory, beside the Kafka-engine path',
    '',
    `Date: ${new Date().toISOString()}. Machine: ${machineDescription()}, ` +
      `load average at the end ${loadAverage()}. PostgreSQL, Kafka, Kafka Connect, ` +
      'ClickHouse (chDB), the processor and this script share the machine; both paths consumed the topic at the same time.',
    '',
    `Workload: ${fmt(N)} INSERTed events (${Math.ceil(N / STATEMENT_ROWS)} statements of ≤ ${fmt(STATEMENT_ROWS)} rows, one connection, ` +
      `autocommit; ${USERS} users, event times over ${SPREAD_MS / 3600_000} h). Events/s = N / (done − first commit); ` +
      `PostgreSQL is done at its last commit (${secs(r.lastCommit - r.firstCommit)} after the first). RSS sampled every ` +
      `${RSS_EVERY_MS} ms from the first statement until the path was done (${procRss.n} processor samples); ` +
      `freshness per event = ClickHouse insert stamp − PostgreSQL commit (Debezium source.ts_ms).`,
    '',
    '| path | events/s | ratio to PostgreSQL commit rate | peak RSS (median) | freshness p50 / p99 |',
    '|---|---|---|---|---|',
    `| PostgreSQL commits (the writer's ceiling) | ${fmt(pgRate)} | 1.00 | – | – |`,
    `| stream processor (group ${ENRICH_GROUP}) | **${fmt(procRate)}** | ${fmt(procRate / pgRate, 2)} | ` +
      `**${mib(procRss.peak)}** (${mib(procRss.median)}) | ${ms(procLag.p50)} / ${ms(procLag.p99)} |`,
    `| ClickHouse Kafka engine → default.telemetry_events | **${fmt(kafkaRate)}** | ${fmt(kafkaRate / pgRate, 2)} | ` +
      `${mib(chdbRss.peak)} (${mib(chdbRss.median)}) for the whole chDB server | ${ms(kafkaLag.p50)} / ${ms(kafkaLag.p99)} |`,
    `| goal: processor RSS ≤ ${GOAL_RSS_MB} MB under load | | | **${met ? 'met' : 'not met'}** (peak ${mib(procRss.peak)}) | |`,
    '',
    `- Processor RSS when idle, just before the phase: ${r.rssIdleKb === undefined ? '?' : mib(r.rssIdleKb)}.`,
    `- Processor CPU from the first statement until it was done: ${r.processorCpu === undefined ? '?' : `${fmt(r.processorCpu, 1)} s, ` +
      `${fmt((r.processorCpu * 1e6) / N)} µs per event`} (user + system, from /proc; less sensitive to the machine's load than events/s).`,
    `- Processor's cdc_processor_freshness_seconds over the phase (${fmt(h50.n)} chunks, commit → chunk written and ` +
      `aggregates recomputed; any chunk of the topic, interpolated within its bucket): ` +
      `p50 ${ms(h50.seconds * 1000)} in ${h50.bucket}, p99 ${ms(h99.seconds * 1000)} in ${h99.bucket}.`,
    `- Per-event maxima: processor ${ms(procLag.max)} (${fmt(procLag.n)} rows), Kafka engine ${ms(kafkaLag.max)} (${fmt(kafkaLag.n)} rows).`,
    `- Done after the last commit: processor ${secs(r.processorDone - r.lastCommit)}, Kafka engine ${secs(r.kafkaDone - r.lastCommit)}.`,
    '- The bench users are unknown to the CRM, so the processor stores the events user-less (user_known = 0).',
  ];
  console.log(lines.join('\n'));

  if (args.json === undefined) return;
  writeResult(args.json, {
    bench: 'processor',
    startedAt,
    finishedAt: new Date().toISOString(),
    machine: machineDescription(),
    command: commandLine('processor'),
    paths: {
      ours: `stream processor (group ${ENRICH_GROUP}, with the Avro output topic)`,
      peer: 'ClickHouse Kafka engine → default.telemetry_events, the same topic at the same time',
      limit: "PostgreSQL commits (the writer's ceiling)",
    },
    settings: { events: N, statementRows: STATEMENT_ROWS, users: USERS, skipWait: args['skip-wait'], rssEveryMs: RSS_EVERY_MS },
    metrics: [
      {
        id: 'processor.events_per_s', label: 'events/s, processor vs Kafka engine', unit: 'events/s', better: 'higher',
        values: { ours: figure(procRate), peer: figure(kafkaRate), limit: figure(pgRate) },
        goal: { text: '≥ 1.0× the Kafka engine', met: procRate >= kafkaRate },
      },
      {
        id: 'processor.cpu_per_event', label: 'processor CPU per event', unit: 'µs/event', better: 'lower',
        values: { ours: figure(r.processorCpu === undefined ? undefined : (r.processorCpu * 1e6) / N) },
      },
      {
        id: 'processor.peak_rss', label: 'processor peak RSS under load', unit: 'MiB', better: 'lower',
        values: { ours: figure(procRss.peak / 1024) },
        goal: { text: `≤ ${GOAL_RSS_MB} MB`, met },
      },
    ],
    notes: [`load average at the end ${loadAverage()}`],
  });
  say(`figures written to ${args.json}`);
}

async function cleanUp(): Promise<void> {
  const removed = await deleteBenchRows();
  const processorUp = spawned !== undefined && spawned.child.exitCode === null && spawned.child.signalCode === null;
  if (removed > 0) {
    say(`deleted the bench's ${fmt(removed)} row(s); waiting for the deletes to reach ${processorUp ? 'both paths' : 'the Kafka-engine path'} …`);
    // Bounded: a cleanup that never ends would keep the stack's processor stopped.
    await waitEmpty(300_000, processorUp);
  }
  if (spawned) {
    say('stopping the spawned stream processor …');
    await stopProcessor();
  }
  await purgeBenchRows();
}

/**
 * The deleted rows each run leaves behind in ClickHouse, removed. ReplacingMergeTree
 * keeps a deleted row until a cleanup merge, and every FINAL over the bench range
 * (each path's done-check, the processor's recomputes) reads them: without this,
 * each run on a stack would be slower than the one before it. Safe: the range is
 * the bench's alone and empty in PostgreSQL by now, and no processor is running.
 */
async function purgeBenchRows(): Promise<void> {
  say('purging the bench range from ClickHouse …');
  const window = `minute >= ${chTs(T0)} AND minute < ${chTs(T0 + SPREAD_MS)}`;
  for (const [table, where] of [
    ['default.telemetry_events', RANGE],
    ['analytics.telemetry_enriched', RANGE],
    ['analytics.telemetry_enriched_by_user', RANGE],
    ['analytics.user_activity', RANGE],
    ['analytics.telemetry_by_minute', window],
  ] as const) {
    await ch.command({ query: `ALTER TABLE ${table} DELETE WHERE ${where}`, clickhouse_settings: { mutations_sync: '1' } });
  }
}

await runBench(
  main,
  [
    { name: 'cleanup', run: cleanUp },
    {
      name: "restoring the stack's stream-processor (run npm run stack:up)",
      run: async () => {
        if (!resumeStackProcessor) return;
        say("restoring the stack's stream-processor …");
        await resumeStackProcessor();
      },
    },
  ],
  () => Promise.allSettled([pool.end(), ch.close(), admin.disconnect()]),
);
