/**
 * The ClickHouse endpoint under analysts' load: does the pipeline ever wait?
 *
 *   npm run bench:clickhouse [-- --phase-s 45 --analysts 4 --short-s 10 --skip-stream]
 *
 * Runs against the stack the environment points at (the one `npm run up` starts),
 * which must be up. Four phases, each the same length, in one run:
 *
 *   idle       no analyst query
 *   one-long   one analyst query that would run for 60 s (stopped by KILL QUERY at
 *              the end of the phase; the time from KILL to its end is measured)
 *   four-short four analysts, each running 10 s queries back to back
 *
 * In every phase, all the time:
 *   - a marker event committed to telemetry_db every 200 ms; its freshness is
 *     commit → visible in default.telemetry_events (Kafka engine) and → in
 *     analytics.telemetry_enriched (the stream processor's HTTP write), polled every
 *     25 ms by the pipeline user;
 *   - `SELECT 1` every 100 ms, as the pipeline user (as health checks and the
 *     processor do), and as the analyst while the analyst still has a free slot.
 * The analyst queries are CPU-bound scans (`sum(cityHash64(number))` over
 * system.numbers) as the analyst user of clickhouse/users.yaml, so its profile
 * (max_threads 1, priority 10, at most 4 at once) is what is measured.
 *
 * Then, unless --skip-stream, a private chdb-server (its own process, so its RSS is
 * its own) streams 10,000,000 rows to a client reading as fast as it can: RSS
 * growth sampled every 50 ms, and the delay between the engine making the first
 * block and the client getting the first byte.
 *
 * The report (Markdown) goes to stdout, progress to stderr. Marker rows use user_id
 * in [960,000,000, 960,001,000) and are deleted at the end.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { get as httpGet } from 'node:http';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadEndpoints } from '@cdc/config';
import pg from 'pg';
import { fmt, now, percentile, runBench, say, sleep, stopOnInterrupt } from './support.js';

const USAGE = `usage: npm run bench:clickhouse -- [--phase-s 45] [--analysts 4] [--short-s 10] [--skip-stream]
  --phase-s      seconds each phase measures (default 45)
  --analysts     analysts in the four-short phase (default 4)
  --short-s      length of each of their queries (default 10)
  --skip-stream  skip the 10,000,000-row streaming measurement
  --stream-only  only the streaming measurement (needs no stack)`;

function usageError(message: string): never {
  console.error(`${message}\n${USAGE}`);
  process.exit(2);
}

let args;
try {
  args = parseArgs({
    options: {
      'phase-s': { type: 'string', default: '45' },
      analysts: { type: 'string', default: '4' },
      'short-s': { type: 'string', default: '10' },
      'skip-stream': { type: 'boolean', default: false },
      'stream-only': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  }).values;
} catch (e) {
  usageError((e as Error).message);
}
if (args.help) {
  console.log(USAGE);
  process.exit(0);
}
const positive = (name: string, v: string): number => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) usageError(`--${name} expects a positive number, got '${v}'`);
  return n;
};
const PHASE_MS = positive('phase-s', args['phase-s']!) * 1000;
const ANALYSTS = positive('analysts', args.analysts!);
const SHORT_S = positive('short-s', args['short-s']!);

const env = loadEndpoints();
const CH = env.CLICKHOUSE_URL.replace(/\/$/, '');
const PIPELINE = { user: env.CLICKHOUSE_USER, password: env.CLICKHOUSE_PASSWORD };
const ANALYST = { user: env.CLICKHOUSE_ANALYST_USER, password: env.CLICKHOUSE_ANALYST_PASSWORD };
const USER_MIN = 960_000_000;
const pool = new pg.Pool({ connectionString: env.TELEMETRY_DATABASE_URL, max: 2 });

type Who = typeof PIPELINE;
const auth = (who: Who): Record<string, string> => ({
  Authorization: `Basic ${Buffer.from(`${who.user}:${who.password}`).toString('base64')}`,
});

async function chText(who: Who, sql: string, params: Record<string, string> = {}, signal?: AbortSignal): Promise<{ status: number; text: string }> {
  const url = new URL(CH);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  const res = await fetch(url, { method: 'POST', body: sql, headers: auth(who), ...(signal && { signal }) });
  return { status: res.status, text: await res.text() };
}

// ---------------------------------------------------------------- probes

interface Marker {
  uuid: string;
  committedAt: number;
  kafkaAt?: number;
  enrichedAt?: number;
}

interface PhaseResult {
  name: string;
  markers: Marker[];
  select1: number[];
  select1Analyst: number[];
  select1AnalystRefused: number;
  killMs?: number;
  analystQueries: number;
}

let seq = 0;

/** One marker row, committed on its own; the commit time is when PostgreSQL acknowledged it. */
async function commitMarker(): Promise<Marker> {
  const uuid = randomUUID();
  await pool.query(
    `INSERT INTO public.telemetry_events (event_uuid, user_id, prosthesis_type, muscle_group, signal_frequency,
       signal_duration, signal_amplitude, event_timestamp) VALUES ($1, $2, 'bionic_arm', 'biceps', 1000, 10, 1.5, now())`,
    [uuid, USER_MIN + (seq++ % 1000)],
  );
  return { uuid, committedAt: now() };
}

async function pollMarkers(pending: Marker[], since: string): Promise<void> {
  const waitingKafka = pending.filter((m) => m.kafkaAt === undefined);
  const waitingEnriched = pending.filter((m) => m.enrichedAt === undefined);
  const list = (ms: Marker[]) => ms.map((m) => `'${m.uuid}'`).join(',');
  const [k, e] = await Promise.all([
    waitingKafka.length === 0
      ? undefined
      : chText(PIPELINE, `SELECT toString(event_uuid) FROM default.telemetry_events WHERE user_id >= ${USER_MIN} AND event_uuid IN (${list(waitingKafka)}) FORMAT TSV`),
    waitingEnriched.length === 0
      ? undefined
      : chText(
          PIPELINE,
          `SELECT toString(event_uuid) FROM analytics.telemetry_enriched WHERE event_timestamp >= '${since}' AND event_uuid IN (${list(waitingEnriched)}) FORMAT TSV`,
        ),
  ]);
  const t = now();
  const seen = (r: { status: number; text: string } | undefined) => new Set(r && r.status === 200 ? r.text.split('\n').filter(Boolean) : []);
  const inKafka = seen(k);
  const inEnriched = seen(e);
  for (const m of waitingKafka) if (inKafka.has(m.uuid)) m.kafkaAt = t;
  for (const m of waitingEnriched) if (inEnriched.has(m.uuid)) m.enrichedAt = t;
}

async function select1(who: Who): Promise<{ ms: number; refused: boolean }> {
  const t0 = now();
  const r = await chText(who, 'SELECT 1');
  return { ms: now() - t0, refused: r.status !== 200 };
}

// ---------------------------------------------------------------- analysts

const SCAN = 'SELECT sum(cityHash64(number)) FROM system.numbers';

async function runPhase(name: string, load: (stop: () => boolean) => Promise<{ killMs?: number; queries: number }>): Promise<PhaseResult> {
  say(`phase ${name}: ${PHASE_MS / 1000} s …`);
  const result: PhaseResult = { name, markers: [], select1: [], select1Analyst: [], select1AnalystRefused: 0, analystQueries: 0 };
  const since = new Date(Date.now() - 60_000).toISOString().replace('T', ' ').replace('Z', '');
  const end = now() + PHASE_MS;
  let stopped = false;
  const stop = () => stopped;
  const loadDone = load(stop);
  const markerLoop = (async () => {
    while (now() < end) {
      result.markers.push(await commitMarker());
      await sleep(200);
    }
  })();
  const pollLoop = (async () => {
    for (;;) {
      const pending = result.markers.filter((m) => m.kafkaAt === undefined || m.enrichedAt === undefined);
      if (now() > end + 30_000 || (now() > end && pending.length === 0)) break;
      if (pending.length > 0) await pollMarkers(pending, since);
      await sleep(25);
    }
  })();
  const probeLoop = (async () => {
    while (now() < end) {
      const [p, a] = await Promise.all([select1(PIPELINE), select1(ANALYST)]);
      result.select1.push(p.ms);
      if (a.refused) result.select1AnalystRefused++;
      else result.select1Analyst.push(a.ms);
      await sleep(100);
    }
  })();
  await Promise.all([markerLoop, probeLoop]);
  stopped = true;
  const l = await loadDone;
  await pollLoop;
  result.killMs = l.killMs;
  result.analystQueries = l.queries;
  return result;
}

const idle = async (): Promise<{ queries: number }> => ({ queries: 0 });

/**
 * Waits until a marker has come through both paths: right after ClickHouse (re)starts,
 * its Kafka-engine consumers rejoin their groups only once the old members time out,
 * which would be counted as idle latency.
 */
async function warmUp(): Promise<void> {
  say('warming up: waiting for a marker to come through both paths …');
  const since = new Date(Date.now() - 60_000).toISOString().replace('T', ' ').replace('Z', '');
  const m = await commitMarker();
  const deadline = now() + 180_000;
  while (m.kafkaAt === undefined || m.enrichedAt === undefined) {
    if (now() > deadline) throw new Error('a marker did not reach default.telemetry_events and analytics.telemetry_enriched within 180 s');
    await pollMarkers([m], since);
    await sleep(100);
  }
  await sleep(5_000);
}

/** One analyst query meant to run 60 s; at the end of the phase, KILL QUERY and time its end. */
async function oneLong(stop: () => boolean): Promise<{ killMs?: number; queries: number }> {
  const queryId = `bench-long-${randomUUID()}`;
  let endedAt = 0;
  const long = chText(ANALYST, SCAN, { query_id: queryId, max_execution_time: '60' }).then((r) => {
    endedAt = now();
    return r;
  });
  while (!stop()) await sleep(100);
  const killAt = now();
  const kill = await chText(ANALYST, `KILL QUERY WHERE query_id = '${queryId}'`);
  const r = await long;
  if (kill.status !== 200) say(`KILL QUERY answered ${kill.status}: ${kill.text.slice(0, 200)}`);
  if (!/394|QUERY_WAS_CANCELLED/.test(r.text)) say(`the long query ended without being cancelled: ${r.status} ${r.text.slice(0, 200)}`);
  return { killMs: endedAt - killAt, queries: 1 };
}

function fourShort(stop: () => boolean): Promise<{ queries: number }> {
  let queries = 0;
  const analyst = async () => {
    while (!stop()) {
      await chText(ANALYST, SCAN, { max_execution_time: String(SHORT_S), timeout_overflow_mode: 'break' });
      queries++;
    }
  };
  return Promise.all(Array.from({ length: ANALYSTS }, analyst)).then(() => ({ queries }));
}

// ---------------------------------------------------------------- streaming

interface StreamRun {
  label: string;
  rows: number;
  seconds: number;
  rssBeforeMiB: number;
  rssPeakMiB: number;
  firstByteMs: number;
}

interface StreamResult {
  runs: StreamRun[];
  slowFirstByteMs: number;
  slowFirstBlockMs: number;
}

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

async function privateServer(): Promise<{ url: string; child: ChildProcess; dir: string }> {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-stream-'));
  const { CHDB_USERS_FILE: _, ...inherited } = process.env;
  const child = spawn(process.execPath, ['--import', 'tsx', 'apps/chdb-server/src/main.ts'], {
    cwd: root,
    env: { ...inherited, UV_THREADPOOL_SIZE: '64', CHDB_DATA_PATH: dir, CLICKHOUSE_HTTP_PORT: '0', CLICKHOUSE_HTTP_HOST: '127.0.0.1', LOG_LEVEL: 'info', CLICKHOUSE_USER: 'default', CLICKHOUSE_PASSWORD: '' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (c: Buffer) => {
      buf += c.toString();
      const m = /"url":"([^"]+)"/.exec(buf);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`private chdb-server exited with ${code}`)));
  });
  return { url, child, dir };
}

/** Streams `rows` rows, reading at most `bytesPerSecond` (0: as fast as possible), sampling the server's RSS. */
async function streamRows(url: string, pid: number, label: string, rows: number, bytesPerSecond = 0): Promise<StreamRun> {
  const rssBefore = rssMiB(pid);
  let peak = rssBefore;
  const sampler = setInterval(() => (peak = Math.max(peak, rssMiB(pid))), 50);
  const t0 = now();
  let first = 0;
  let lines = 0;
  let bytes = 0;
  await new Promise<void>((resolve, reject) => {
    const q = encodeURIComponent(`SELECT number, toString(number) FROM numbers(${rows})`);
    httpGet(`${url}/?query=${q}`, (res) => {
      res.on('data', (chunk: Buffer) => {
        if (first === 0) first = now() - t0;
        bytes += chunk.length;
        for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
        if (bytesPerSecond > 0) {
          const ahead = bytes / bytesPerSecond - (now() - t0) / 1000;
          if (ahead > 0) {
            res.pause();
            setTimeout(() => res.resume(), ahead * 1000);
          }
        }
      });
      res.on('end', resolve);
      res.on('error', reject);
    }).on('error', reject);
  });
  clearInterval(sampler);
  return { label, rows: lines, seconds: (now() - t0) / 1000, rssBeforeMiB: rssBefore, rssPeakMiB: peak, firstByteMs: first };
}

async function streamTenMillion(): Promise<StreamResult> {
  say('streaming 10,000,000 rows from a private chdb-server …');
  const { url, child, dir } = await privateServer();
  try {
    await (await fetch(`${url}/?query=SELECT%201`)).text();
    await sleep(500);
    const pid = child.pid!;
    const runs = [
      await streamRows(url, pid, 'cold: the first result after start, 10,000,000 rows', 10_000_000),
      await streamRows(url, pid, 'warm, 10,000,000 rows, client as fast as it can', 10_000_000),
      await streamRows(url, pid, 'warm, 10,000,000 rows, client reading 20 MB/s', 10_000_000, 20_000_000),
      await streamRows(url, pid, 'warm, 50,000,000 rows', 50_000_000),
    ];
    // A query whose first block takes the engine ~50 ms: how long after it does the first byte arrive?
    const t1 = now();
    const slow = await fetch(`${url}/?query=${encodeURIComponent('SELECT number, sleepEachRow(0.05) FROM numbers(40) SETTINGS max_block_size = 1')}`);
    const reader = slow.body!.getReader();
    await reader.read();
    const slowFirst = now() - t1;
    await reader.cancel();
    return { runs, slowFirstByteMs: slowFirst, slowFirstBlockMs: 50 };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- report

const ms = (x: number) => (Number.isFinite(x) ? `${fmt(x)} ms` : '–');

function freshness(r: PhaseResult, key: 'kafkaAt' | 'enrichedAt'): number[] {
  return r.markers.filter((m) => m[key] !== undefined).map((m) => m[key]! - m.committedAt);
}

function reportPhases(phases: PhaseResult[]): void {
  const [idlePhase] = phases;
  const base = {
    kafka: percentile(freshness(idlePhase!, 'kafkaAt'), 99),
    enriched: percentile(freshness(idlePhase!, 'enrichedAt'), 99),
  };
  const lines: string[] = [];
  lines.push(`# ClickHouse endpoint under analyst load`);
  lines.push('');
  lines.push(`${new Date().toISOString()} · ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'} · ${fmt(os.totalmem() / 2 ** 30)} GiB · ${CH}`);
  lines.push('');
  lines.push('| phase | analyst queries | SELECT 1 p50 / p99 (pipeline) | SELECT 1 p99 (analyst) | commit → default.telemetry_events p50 / p99 (Δ p99 vs idle) | commit → analytics.telemetry_enriched p50 / p99 (Δ p99 vs idle) | markers seen / sent | KILL → query ended |');
  lines.push('|---|---|---|---|---|---|---|---|');
  for (const p of phases) {
    const k = freshness(p, 'kafkaAt');
    const e = freshness(p, 'enrichedAt');
    const a = p.select1AnalystRefused > 0 ? `${ms(percentile(p.select1Analyst, 99))} (${p.select1AnalystRefused} refused: 202)` : ms(percentile(p.select1Analyst, 99));
    lines.push(
      `| ${p.name} | ${p.analystQueries} | ${ms(percentile(p.select1, 50))} / ${ms(percentile(p.select1, 99))} | ${a} | ` +
        `${ms(percentile(k, 50))} / ${ms(percentile(k, 99))} (${p === idlePhase ? '—' : `${percentile(k, 99) - base.kafka >= 0 ? '+' : ''}${fmt(percentile(k, 99) - base.kafka)} ms`}) | ` +
        `${ms(percentile(e, 50))} / ${ms(percentile(e, 99))} (${p === idlePhase ? '—' : `${percentile(e, 99) - base.enriched >= 0 ? '+' : ''}${fmt(percentile(e, 99) - base.enriched)} ms`}) | ` +
        `${Math.min(k.length, e.length)} / ${p.markers.length} | ${p.killMs === undefined ? '—' : ms(p.killMs)} |`,
    );
  }
  console.log(lines.join('\n'));
}

function reportStream(stream: StreamResult): void {
  console.log(
    [
      '',
      '| streaming `SELECT number, toString(number) FROM numbers(N)`, TSV | rows received | seconds | server RSS before → peak (growth) | first byte |',
      '|---|---|---|---|---|',
      ...stream.runs.map(
        (r) =>
          `| ${r.label} | ${fmt(r.rows)} | ${fmt(r.seconds, 1)} | ${fmt(r.rssBeforeMiB)} → ${fmt(r.rssPeakMiB)} MiB (+${fmt(r.rssPeakMiB - r.rssBeforeMiB)} MiB) | ${ms(r.firstByteMs)} |`,
      ),
      '',
      `A query whose first block takes the engine 50 ms: first byte after ${ms(stream.slowFirstByteMs)}, ` +
        `${ms(stream.slowFirstByteMs - stream.slowFirstBlockMs)} after the block.`,
    ].join('\n'),
  );
}

// ---------------------------------------------------------------- main

stopOnInterrupt();
await runBench(
  async () => {
    if (args['stream-only']) {
      reportStream(await streamTenMillion());
      return;
    }
    const ping = await chText(PIPELINE, 'SELECT 1');
    if (ping.status !== 200) throw new Error(`ClickHouse at ${CH} answered ${ping.status} to the pipeline user: ${ping.text.slice(0, 200)} (is the stack up?)`);
    await warmUp();
    const phases = [await runPhase('idle', idle), await runPhase('one-long', oneLong), await runPhase(`${ANALYSTS}-short`, fourShort)];
    reportPhases(phases);
    if (!args['skip-stream']) reportStream(await streamTenMillion());
  },
  [{ name: 'delete the marker rows', run: async () => void (await pool.query(`DELETE FROM public.telemetry_events WHERE user_id >= ${USER_MIN} AND user_id < ${USER_MIN + 1000}`)) }],
  () => pool.end(),
);
