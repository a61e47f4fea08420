/**
 * Ingest benchmark of the Telemetry API against raw PostgreSQL COPY.
 *
 *   npx tsx apps/telemetry-api/bench/ingest.ts [--events 200000] [--batch 5000]
 *       [--concurrency 1,2,4] [--rounds 3] [--single-seconds 15] [--step-seconds 10]
 *
 * Everything runs on 127.0.0.1: the API as a child process (its own event loop, as
 * in production, so the load generator does not steal its CPU time) on a free port,
 * against telemetry_db (TELEMETRY_DATABASE_URL). Rows use the dedicated user_id
 * range [900,000,000, 901,000,000) and are deleted after every phase (then VACUUM
 * and CHECKPOINT, so that every phase starts from a table and a buffer cache of the
 * same shape) and at the end, whatever happens.
 *
 * What is timed: for COPY, the COPY stream of pre-rendered rows; for the API, the
 * HTTP round trips of pre-serialized batch bodies (the server parses, validates and
 * inserts; the client only sends bytes and reads the summary). Payloads are
 * deterministic (seeded); event_uuids are fresh for every phase so that every
 * event is new.
 *
 * The machine is shared (other processes come and go), so COPY and the API are
 * measured in alternation, `rounds` times, and each ratio is API/COPY of the same
 * round; the report gives every round and the median.
 *
 * Authentication: the API runs as deployed, requiring a key (a temporary one with
 * telemetry:write and no rate limit, revoked at the end); a second API process with
 * API_AUTH=off takes the same batches in the same rounds, and the report gives the
 * ratio of the two: what the key check and the audit entry cost.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { loadDotEnv, loadEndpoints } from '@cdc/config';
import type { IncomingTelemetryEvent } from '@cdc/schemas';
import { mulberry32 } from '../../../scripts/import/generator.js';
import { temporaryKey, type TemporaryKey } from '../../../scripts/keys/temporary.js';
import { freePort } from '../../../scripts/lib/net.js';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const USER_MIN = 900_000_000;
const USER_SPAN = 1_000_000;
const P99_BUDGET_MS = 50;

const { values: args } = parseArgs({
  options: {
    events: { type: 'string', default: '200000' },
    batch: { type: 'string', default: '5000' },
    concurrency: { type: 'string', default: '1,2,4' },
    rounds: { type: 'string', default: '3' },
    'single-seconds': { type: 'string', default: '15' },
    'step-seconds': { type: 'string', default: '10' },
  },
});
const N = Number(args.events);
const BATCH = Number(args.batch);
const CONCURRENCY = args.concurrency.split(',').map(Number);
const ROUNDS = Number(args.rounds);
const SINGLE_SECONDS = Number(args['single-seconds']);
const STEP_SECONDS = Number(args['step-seconds']);

loadDotEnv(path.join(REPO_ROOT, '.env'));
const ENDPOINTS = loadEndpoints();
const DATABASE_URL = ENDPOINTS.TELEMETRY_DATABASE_URL;

// ---------------------------------------------------------------- events

type BenchEvent = Required<IncomingTelemetryEvent>;

// Seeded (the CSV generator's PRNG): the same seed gives the same payloads on every run.
const prng = mulberry32;

const PROSTHESES = ['myoelectric_hand', 'bionic_arm', 'body_powered_hook', 'hybrid_elbow', 'multi_articulating_hand'];
const MUSCLES = ['forearm_flexors', 'forearm_extensors', 'biceps', 'triceps', 'deltoid', 'pectoralis'];
const T0 = Date.parse('2026-11-01T00:00:00Z');

/** N events with deterministic payloads and fresh event_uuids. */
function generate(n: number, seed = 42): BenchEvent[] {
  const rnd = prng(seed);
  const events = new Array<BenchEvent>(n);
  for (let i = 0; i < n; i++) {
    const micros = Math.floor(rnd() * 1000);
    events[i] = {
      event_uuid: randomUUID(),
      user_id: USER_MIN + (i % 10_000),
      prosthesis_type: PROSTHESES[Math.floor(rnd() * PROSTHESES.length)]!,
      muscle_group: MUSCLES[Math.floor(rnd() * MUSCLES.length)]!,
      signal_frequency: 500 + Math.floor(rnd() * 1500),
      signal_duration: Math.floor(rnd() * 1000),
      signal_amplitude: Math.round(rnd() * 5_000_000) / 1_000_000,
      event_timestamp: `${new Date(T0 + i * 7).toISOString().slice(0, 23)}${String(micros).padStart(3, '0')}Z`,
    };
  }
  return events;
}

// ---------------------------------------------------------------- database

const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });

async function cleanUp(): Promise<number> {
  const { rowCount } = await pool.query('DELETE FROM telemetry_events WHERE user_id >= $1 AND user_id < $2', [
    USER_MIN,
    USER_MIN + USER_SPAN,
  ]);
  // Dead tuples, index entries and dirty buffers of one phase would otherwise slow
  // down the next one.
  await pool.query('VACUUM (ANALYZE) telemetry_events');
  await pool.query('CHECKPOINT');
  return rowCount ?? 0;
}

async function countOwn(uuids: string[]): Promise<number> {
  const { rows } = await pool.query<{ n: string }>(
    'SELECT count(*) AS n FROM telemetry_events WHERE event_uuid = ANY($1::uuid[])',
    [uuids],
  );
  return Number(rows[0]!.n);
}

async function copyBaseline(events: BenchEvent[]): Promise<number> {
  // Rendered before the clock starts, as the API phase pre-serializes its bodies.
  const chunks: string[] = [];
  for (let i = 0; i < events.length; i += 5000) {
    chunks.push(
      events
        .slice(i, i + 5000)
        .map(
          (e) =>
            `${e.event_uuid}\t${e.user_id}\t${e.prosthesis_type}\t${e.muscle_group}\t${e.signal_frequency}\t` +
            `${e.signal_duration}\t${e.signal_amplitude}\t${e.event_timestamp}\n`,
        )
        .join(''),
    );
  }
  const client = await pool.connect();
  try {
    const t0 = performance.now();
    await pipeline(
      Readable.from(chunks),
      client.query(
        copyFrom(
          'COPY telemetry_events (event_uuid, user_id, prosthesis_type, muscle_group, signal_frequency, ' +
            'signal_duration, signal_amplitude, event_timestamp) FROM STDIN',
        ),
      ),
    );
    return (performance.now() - t0) / 1000;
  } finally {
    client.release();
  }
}

// ---------------------------------------------------------------- API


interface Api {
  url: string;
  child: ChildProcess;
  /** What every request sends: the key's Authorization header, or nothing with API_AUTH=off. */
  headers: Record<string, string>;
}

let key: TemporaryKey | undefined;

async function startApi(auth: 'required' | 'off' = 'required'): Promise<Api> {
  const port = await freePort();
  key ??= await temporaryKey(ENDPOINTS, 'bench:ingest', ['telemetry:write', 'ops:read']);
  const headers: Record<string, string> = auth === 'off' ? {} : { authorization: `Bearer ${key.token}` };
  const child = spawn(process.execPath, ['--import', 'tsx', 'apps/telemetry-api/src/main.ts'], {
    cwd: REPO_ROOT,
    env: { ...process.env, HOST: '127.0.0.1', TELEMETRY_API_PORT: String(port), TELEMETRY_DATABASE_URL: DATABASE_URL, API_AUTH: auth },
    // Production log level (info: one access-log line per request), written nowhere.
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`API exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${url}/ready`, { headers })).ok) return { url, child, headers };
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error('API did not become ready within 30 s');
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function postBatches(api: Api, bodies: string[], concurrency: number): Promise<{ seconds: number; inserted: number }> {
  let next = 0;
  let inserted = 0;
  const worker = async () => {
    while (next < bodies.length) {
      const body = bodies[next++]!;
      const res = await fetch(`${api.url}/telemetry-events/batch`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...api.headers },
        body,
      });
      const text = await res.text();
      if (res.status !== 200) throw new Error(`batch answered ${res.status}: ${text.slice(0, 300)}`);
      // The summary is at the start; no need to parse 5,000 results to read it.
      const m = /"inserted":(\d+)/.exec(text);
      inserted += Number(m?.[1] ?? 0);
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { seconds: (performance.now() - t0) / 1000, inserted };
}

interface SingleRun {
  target: number;
  achieved: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
}

function singleEventLoad(api: Api, rate: number, seconds: number, seed: number): Promise<SingleRun> {
  const rnd = prng(seed);
  let i = 0;
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url: `${api.url}/telemetry-events`,
        // Enough sockets that the fixed rate, not the connection count, sets the pace.
        connections: Math.max(10, Math.ceil(rate / 50)),
        overallRate: rate,
        duration: seconds,
        method: 'POST',
        headers: { 'content-type': 'application/json', ...api.headers },
        requests: [
          {
            setupRequest: (req) => {
              i++;
              req.body = JSON.stringify({
                event_uuid: randomUUID(),
                user_id: USER_MIN + 500_000 + (i % 10_000),
                prosthesis_type: PROSTHESES[i % PROSTHESES.length],
                muscle_group: MUSCLES[i % MUSCLES.length],
                signal_frequency: 500 + Math.floor(rnd() * 1500),
                signal_duration: Math.floor(rnd() * 1000),
                signal_amplitude: Math.round(rnd() * 5_000_000) / 1_000_000,
                event_timestamp: new Date(T0 + i).toISOString(),
              });
              return req;
            },
          },
        ],
      },
      (err, result) => (err ? reject(err) : resolve(toSingleRun(rate, result))),
    );
  });
}

function toSingleRun(rate: number, result: autocannon.Result): SingleRun {
  return {
    target: rate,
    achieved: result.requests.total / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors,
    non2xx: result.non2xx,
  };
}

/** GET /health at a fixed rate: the floor that the machine, the frame and the load generator set. */
function healthLoad(url: string, rate: number, seconds: number): Promise<SingleRun> {
  return new Promise((resolve, reject) => {
    autocannon({ url: `${url}/health`, connections: 10, overallRate: rate, duration: seconds }, (err, result) =>
      err ? reject(err) : resolve(toSingleRun(rate, result)),
    );
  });
}

// ---------------------------------------------------------------- main

const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
// Progress on stderr, the report alone on stdout.
const say = (s: string) => console.error(s);

function batchBodies(events: BenchEvent[]): string[] {
  const bodies: string[] = [];
  for (let i = 0; i < events.length; i += BATCH) bodies.push(JSON.stringify({ events: events.slice(i, i + BATCH) }));
  return bodies;
}

async function stopApi(api: Api | undefined): Promise<void> {
  if (!api) return;
  if (api.child.exitCode !== null) return;
  const exited = once(api.child, 'exit');
  api.child.kill('SIGTERM');
  await exited;
}

/** Warm-up (JIT, prepared statements, pool connections), not measured. */
async function warmUp(api: Api, batches: boolean): Promise<void> {
  if (batches) await postBatches(api, batchBodies(generate(4 * BATCH, 1)), 2);
  await singleEventLoad(api, 200, 3, 1);
  await cleanUp();
}

async function main(): Promise<void> {
  say(`cleaning user_id range [${USER_MIN}, ${USER_MIN + USER_SPAN}) …`);
  await cleanUp();

  // 1. batches against COPY, in alternation
  interface Round {
    copyRate: number;
    api: Map<number, number>;
    /** The same batches through the API with API_AUTH=off. */
    open: Map<number, number>;
  }
  const rounds: Round[] = [];
  let api = await startApi();
  let open: Api | undefined = await startApi('off');
  try {
    say('API warm-up …');
    await warmUp(api, true);
    await warmUp(open, true);
    for (let r = 1; r <= ROUNDS; r++) {
      say(`round ${r}/${ROUNDS}: COPY ${fmt(N)} rows …`);
      const copyEvents = generate(N);
      const copySeconds = await copyBaseline(copyEvents);
      if ((await countOwn(copyEvents.map((e) => e.event_uuid))) !== N) throw new Error('COPY did not store every row');
      await cleanUp();
      const round: Round = { copyRate: N / copySeconds, api: new Map(), open: new Map() };
      say(`  ${fmt(round.copyRate)} rows/s`);
      for (const concurrency of CONCURRENCY) {
        // Which of the two goes first alternates by round, so neither always meets a warmer machine.
        const order = r % 2 ? ([[api, round.api], [open, round.open]] as const) : ([[open, round.open], [api, round.api]] as const);
        for (const [target, into] of order) {
          const events = generate(N);
          const bodies = batchBodies(events);
          const label = target === api ? 'API' : 'API (auth off)';
          say(`round ${r}/${ROUNDS}: ${label} ${bodies.length} batches of ${BATCH}, concurrency ${concurrency} …`);
          const { seconds, inserted } = await postBatches(target, bodies, concurrency);
          if (inserted !== N) throw new Error(`${label} inserted ${inserted} of ${N}`);
          if ((await countOwn(events.map((e) => e.event_uuid))) !== N) throw new Error(`${label} did not store every event`);
          into.set(concurrency, N / seconds);
          say(`  ${fmt(N / seconds)} events/s (ratio to COPY ${fmt(N / seconds / round.copyRate, 2)})`);
          await cleanUp();
        }
      }
      rounds.push(round);
    }

    // 2. single events: first in the process that just took the batch load …
    say(`single events, after the batch load: ${SINGLE_SECONDS} s at 200 req/s …`);
    const afterBatches = await singleEventLoad(api, 200, SINGLE_SECONDS, 7);
    say(`  p50 ${afterBatches.p50} ms, p99 ${afterBatches.p99} ms`);
    await cleanUp();

    // … then in a fresh one, whose heap holds no garbage of 10,000-event batches.
    await stopApi(api);
    await stopApi(open);
    api = await startApi();
    open = await startApi('off');
    await warmUp(api, false);
    await warmUp(open, false);
    say('GET /health, fresh process: 10 s at 200 req/s …');
    const floor = await healthLoad(api.url, 200, 10);
    say(`  p50 ${floor.p50} ms, p99 ${floor.p99} ms`);
    say(`single events, fresh process: ${SINGLE_SECONDS} s at 200 req/s …`);
    const fixed = await singleEventLoad(api, 200, SINGLE_SECONDS, 8);
    say(`  p50 ${fixed.p50} ms, p99 ${fixed.p99} ms`);
    await cleanUp();
    say(`single events, fresh process, auth off: ${SINGLE_SECONDS} s at 200 req/s …`);
    const fixedOpen = await singleEventLoad(open, 200, SINGLE_SECONDS, 9);
    say(`  p50 ${fixedOpen.p50} ms, p99 ${fixedOpen.p99} ms`);
    await cleanUp();
    await stopApi(open);
    open = undefined;

    const steps: SingleRun[] = [];
    for (const rate of [200, 400, 800, 1200, 1600, 2000, 2400, 2800, 3200, 4000]) {
      say(`single events: ${STEP_SECONDS} s at ${rate} req/s …`);
      const run = await singleEventLoad(api, rate, STEP_SECONDS, rate);
      steps.push(run);
      say(`  achieved ${fmt(run.achieved)} req/s, p50 ${run.p50} ms, p99 ${run.p99} ms, errors ${run.errors}, non-2xx ${run.non2xx}`);
      await cleanUp();
      if (!sustained(run)) break;
    }
    const best = steps.filter(sustained).at(-1);

    // 3. report
    const cpus = os.cpus();
    const copyRates = rounds.map((r) => r.copyRate);
    const lines = [
      '### Telemetry API ingest benchmark',
      '',
      `Date: ${new Date().toISOString()}. Machine: ${cpus.length} × ${cpus[0]?.model.trim() ?? 'CPU'}, ` +
        `${fmt(os.totalmem() / 1024 ** 3, 1)} GiB RAM, ${os.type()} ${os.release()}, Node ${process.version}, ` +
        `load average at the end ${os.loadavg().map((l) => fmt(l, 2)).join(' / ')}. PostgreSQL, the API (child ` +
        'process) and the load generator share the machine.',
      '',
      'Every API row but those marked auth off ran with authentication on (a key checked per request, an audit entry per write).',
      '',
      '| what | figure | rounds | how |',
      '|---|---|---|---|',
      `| COPY baseline, ${fmt(N)} rows | **${fmt(median(copyRates))} rows/s** (median) | ${copyRates.map((x) => fmt(x)).join(' · ')} | pg-copy-streams, one connection, text format, rows pre-rendered |`,
    ];
    for (const c of CONCURRENCY) {
      const rates = rounds.map((r) => r.api.get(c)!);
      const ratios = rounds.map((r) => r.api.get(c)! / r.copyRate);
      lines.push(
        `| POST /telemetry-events/batch, ${fmt(N)} events, concurrency ${c} | **${fmt(median(rates))} events/s**, ratio to COPY **${fmt(median(ratios), 2)}** (medians) | ${rates.map((x, i) => `${fmt(x)} (${fmt(ratios[i]!, 2)})`).join(' · ')} | ${N / BATCH} batches of ${BATCH}, bodies pre-serialized |`,
      );
    }
    for (const c of CONCURRENCY) {
      const ratios = rounds.map((r) => r.api.get(c)! / r.open.get(c)!);
      lines.push(
        `| … auth off, concurrency ${c} | **${fmt(median(rounds.map((r) => r.open.get(c)!)))} events/s**; auth on / off **${fmt(median(ratios), 2)}** (median) | ${rounds.map((r, i) => `${fmt(r.open.get(c)!)} (${fmt(ratios[i]!, 2)})`).join(' · ')} | same batches, same rounds, API_AUTH=off |`,
      );
    }
    const bestC = CONCURRENCY.reduce((a, b) =>
      median(rounds.map((r) => r.api.get(b)! / r.copyRate)) > median(rounds.map((r) => r.api.get(a)! / r.copyRate)) ? b : a,
    );
    const bestRatio = median(rounds.map((r) => r.api.get(bestC)! / r.copyRate));
    const bestRate = median(rounds.map((r) => r.api.get(bestC)!));
    lines.push(
      `| best: concurrency ${bestC} | ratio **${fmt(bestRatio, 2)}** (goal ≥ 0.5: ${bestRatio >= 0.5 ? 'met' : 'not met'}), **${fmt(bestRate)} events/s** (goal ≥ 20,000: ${bestRate >= 20_000 ? 'met' : 'not met'}) | | |`,
      `| GET /health at 200 req/s, 10 s, fresh process (no database; the floor of this machine and frame) | p50 **${floor.p50} ms**, p99 **${floor.p99} ms** | | achieved ${fmt(floor.achieved)} req/s |`,
      `| POST /telemetry-events at 200 req/s, ${SINGLE_SECONDS} s, right after the batch load (same process) | p50 **${afterBatches.p50} ms**, p99 **${afterBatches.p99} ms** | | achieved ${fmt(afterBatches.achieved)} req/s, errors ${afterBatches.errors}, non-2xx ${afterBatches.non2xx} |`,
      `| POST /telemetry-events at 200 req/s, ${SINGLE_SECONDS} s, fresh process | p50 **${fixed.p50} ms**, p99 **${fixed.p99} ms** | | achieved ${fmt(fixed.achieved)} req/s, errors ${fixed.errors}, non-2xx ${fixed.non2xx}; autocannon, fixed overall rate, latencies corrected for coordinated omission |`,
      `| … the same, auth off | p50 **${fixedOpen.p50} ms**, p99 **${fixedOpen.p99} ms**; auth on / off: p50 ${fmt(fixed.p50 / fixedOpen.p50, 2)}, p99 ${fmt(fixed.p99 / fixedOpen.p99, 2)} | | achieved ${fmt(fixedOpen.achieved)} req/s, errors ${fixedOpen.errors}, non-2xx ${fixedOpen.non2xx} |`,
      ...steps.map(
        (st) =>
          `| … step ${st.target} req/s, ${STEP_SECONDS} s | achieved ${fmt(st.achieved)} req/s, p50 ${st.p50} ms, p99 ${st.p99} ms | | errors ${st.errors}, non-2xx ${st.non2xx} |`,
      ),
      `| highest sustained single-event rate with p99 < ${P99_BUDGET_MS} ms | **${best ? `${best.target} req/s` : `below ${steps[0]?.target ?? 200} req/s`}** | | largest step sustained (≥ 95 % of the target) with p99 < ${P99_BUDGET_MS} ms, no errors |`,
    );
    console.log(lines.join('\n'));
  } finally {
    await stopApi(api);
    await stopApi(open);
  }
}

function sustained(run: SingleRun): boolean {
  return run.p99 < P99_BUDGET_MS && run.errors === 0 && run.non2xx === 0 && run.achieved >= 0.95 * run.target;
}

main()
  .catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  })
  // Whatever happened, the benchmark's rows go (the API is stopped by then).
  .finally(async () => {
    await key?.revoke();
    const removed = await cleanUp();
    if (removed > 0) console.error(`removed ${removed} leftover benchmark row(s)`);
    await pool.end();
  });
