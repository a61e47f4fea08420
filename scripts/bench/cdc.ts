/**
 * CDC benchmark: PostgreSQL commit → ClickHouse-visible, for the Debezium pipeline
 * (telemetry-connector → Kafka → Kafka-engine table → default.telemetry_events) and,
 * in the same run and under the same workload, for the peer a user might pick
 * instead: ClickHouse's own MaterializedPostgreSQL replication of the same table.
 *
 *   npx tsx scripts/bench/cdc.ts [--changes 200000] [--rate <changes/s>] [--seconds 30]
 *       [--quiet-seconds 15] [--writers 1] [--backlog 0] [--skip-peer] [--json <file>]
 *
 * Workload: changes committed to telemetry_db.telemetry_events by this script, in
 * statements of 1,000 rows, 80 % INSERT (unnest arrays), 10 % UPDATE and 10 % DELETE
 * of the script's own earlier rows (by row count), so that both paths must apply
 * updates and deletes, not just append. Payloads are deterministic (mulberry32);
 * event_uuids are fresh on every run. Rows use the dedicated user_id range
 * [950,000,000, 951,000,000); they are deleted at the start (leftovers of a killed
 * run) and at the end, whatever happens (also on Ctrl-C).
 *
 * Phase 1, sustained throughput: N changes as fast as one PostgreSQL connection
 * takes them, then both paths are polled until each reflects the final state of
 * the bench range (same count, same sums). Throughput = N / (moment the path was
 * seen equal − start of the first statement). PostgreSQL's own commit rate over the
 * same N changes is the ceiling every path is compared with.
 *
 * Phase 0, freshness when quiet: for --quiet-seconds (0: skipped) nothing but the
 * markers of phase 2: what a user who changes one row sees.
 *
 * Phase 2, freshness at half load: a fixed-rate writer (half the peer's phase-1
 * throughput, or half the Debezium path's with --skip-peer, unless --rate) for
 * --seconds, and every 200 ms a marker row on its own connection whose commit (the
 * moment PostgreSQL acknowledged it) is timed; both paths are polled for the markers
 * by primary key every 25 ms, and each marker's latency is commit → the poll answer
 * that first showed it. For the Debezium path, ClickHouse's own columns split every
 * change's lag into commit → Kafka (_kafka_ts, the message timestamp) and Kafka →
 * ClickHouse (_ingested_at), and the processor's into analytics (_processed_at); the
 * CPU each stack component used during the phase is read from /proc.
 *
 * Phase 3, backlog (--backlog N, 0: skipped): the Debezium connector paused in Kafka
 * Connect, N changes committed by the writers, the connector resumed; the path's drain
 * rate is N / (the moment it was seen equal to PostgreSQL − the resume): its own
 * ceiling, the writer out of the picture; the CPU each component used meanwhile,
 * read from /proc, is each stage's cost per change at that ceiling. The peer cannot be paused (ClickHouse
 * refuses DETACH DATABASE for MaterializedPostgreSQL), so it has no drain figure. A
 * run killed meanwhile leaves the connector paused; the next run resumes it first.
 *
 * The peer is created as a ClickHouse database through the same HTTP server, so both
 * paths run in the same chDB process (and on the same 2 cores as PostgreSQL, Kafka
 * and Kafka Connect): the figures are those of the paths side by side, each with
 * the other's load, as they would be if a user ran both. --skip-peer measures the
 * Debezium path alone.
 *
 * Why the peer replicates a twin table, not telemetry_events itself: the table has
 * REPLICA IDENTITY FULL (the Debezium path needs full `before` images: a delete is
 * routed and checked by its user_id, event_uuid, …), and MaterializedPostgreSQL
 * supports only DEFAULT or USING INDEX. Given the FULL table it takes the snapshot,
 * then marks the table as skipped at the first change it decodes and silently
 * applies nothing more (measured: an INSERT never arrived; ClickHouse's
 * MaterializedPostgreSQLConsumer: "Table has replica identity f - not supported").
 * Changing the shared table's replica identity would break the pipeline under test,
 * so the script creates cdc_bench_mpg.telemetry_events (LIKE telemetry_events
 * INCLUDING ALL: same columns, defaults, CHECKs, indexes; replica identity DEFAULT,
 * i.e. the primary key) and every workload statement writes both tables in one
 * statement (a data-modifying CTE): the same rows, ids and values, committed in the
 * same transaction, so both paths see the same commits at the same moments. The
 * price: PostgreSQL writes (and each slot decodes) twice the rows, so its commit
 * rate, the ceiling, is lower than with --skip-peer, which writes only the real table.
 * The twin lives in its own schema, is not in Debezium's publication, and is dropped
 * at the end.
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ClickHouseLogLevel, createClient, type ClickHouseSettings } from '@clickhouse/client';
import pg from 'pg';
import { loadDotEnv, loadEndpoints } from '@cdc/config';
import { ConnectClient } from '@cdc/connect';
import { createKafka, kafkaAccess, withAdmin } from '@cdc/kafka';
import { groupCaughtUp } from '../lib/analytics-compare.js';
import { mulberry32 } from '../import/generator.js';
import { cpuBetween, cpuSnapshot } from './cpu.js';
import { commandLine, figure, loadAverage, machineDescription, parseOrExit, writeResult, type Metric } from './results.js';
import { checkStop, fmt, now, percentile, runBench, say, secs, sleep, stopOnInterrupt, until } from './support.js';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const USER_MIN = 950_000_000;
const USER_SPAN = 1_000_000;
const USER_MAX = USER_MIN + USER_SPAN; // exclusive
const STATEMENT_ROWS = 1_000;
const MARKER_EVERY_MS = 200;
const MARKER_POLL_MS = 25;
const STATE_POLL_MS = 250;
const PEER_DB = 'mpg_bench';
const DEBEZIUM_TOPIC = 'telemetry.public.telemetry_events';
const TWIN_SCHEMA = 'cdc_bench_mpg';
const TWIN = `${TWIN_SCHEMA}.telemetry_events`;

const USAGE = `usage: npm run bench:cdc -- [--changes 200000] [--rate <changes/s>] [--seconds 30] [--quiet-seconds 15]
                          [--writers 1] [--backlog 0] [--skip-peer] [--json <file>]
Needs the native stack (npm run up). The report goes to stdout, progress to stderr;
--json also writes the key figures for npm run bench:perf (scripts/bench/results.ts).`;
const { values: args } = parseOrExit(USAGE, () =>
  parseArgs({
    options: {
      changes: { type: 'string', default: '200000' },
      rate: { type: 'string' },
      seconds: { type: 'string', default: '30' },
      'quiet-seconds': { type: 'string', default: '15' },
      'skip-peer': { type: 'boolean', default: false },
      writers: { type: 'string', default: '1' },
      backlog: { type: 'string', default: '0' },
      json: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  }),
);
// Whole cycles of 10 statements (8 INSERT, 1 UPDATE, 1 DELETE), so the mix is exact.
const CHANGES = Math.max(1, Math.round(Number(args.changes) / (10 * STATEMENT_ROWS))) * 10 * STATEMENT_ROWS;
const SECONDS = Number(args.seconds);
const QUIET_SECONDS = Number(args['quiet-seconds']);
const WITH_PEER = !args['skip-peer'];
const WRITERS = Math.max(1, Math.floor(Number(args.writers)));
// Whole cycles, as for phase 1; 0 skips phase 3.
const BACKLOG = Math.max(0, Math.round(Number(args.backlog) / (10 * STATEMENT_ROWS))) * 10 * STATEMENT_ROWS;
if (!Number.isFinite(SECONDS) || SECONDS <= 0) throw new Error('--seconds must be a positive number');
if (!Number.isFinite(QUIET_SECONDS) || QUIET_SECONDS < 0) throw new Error('--quiet-seconds must be 0 or more');
if (args.rate !== undefined && !(Number(args.rate) > 0)) throw new Error('--rate must be a positive number');

loadDotEnv(path.join(REPO_ROOT, '.env'));
const env = loadEndpoints();

// ---------------------------------------------------------------- clients

// Writer, marker writer and checks each on their own connection: a marker must not
// queue behind a 1,000-row statement, or its commit time would be the writer's.
const pool = new pg.Pool({ connectionString: env.TELEMETRY_DATABASE_URL, max: WRITERS + 3 });
const ch = createClient({
  url: env.CLICKHOUSE_URL,
  username: env.CLICKHOUSE_USER,
  password: env.CLICKHOUSE_PASSWORD,
  // CREATE DATABASE … MaterializedPostgreSQL and DROP … SYNC can take a while.
  request_timeout: 300_000,
  // Errors reach us as exceptions (and polls retry some); the client's own log would
  // print each one, and a warning about the long timeout.
  log: { level: ClickHouseLogLevel.OFF },
  // Answers to the 64-bit counts and sums as JSON numbers (they stay below 2^53).
  clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
});

async function chRows<T>(query: string, settings?: ClickHouseSettings): Promise<T[]> {
  const rs = await ch.query({ query, format: 'JSONEachRow', ...(settings ? { clickhouse_settings: settings } : {}) });
  return rs.json<T>();
}

async function chCommand(query: string, settings?: ClickHouseSettings): Promise<void> {
  await ch.command({ query, ...(settings ? { clickhouse_settings: settings } : {}) });
}

// ---------------------------------------------------------------- stop on Ctrl-C

stopOnInterrupt();

// ---------------------------------------------------------------- workload

const PROSTHESES = ['myoelectric_hand', 'bionic_arm', 'body_powered_hook', 'hybrid_elbow', 'multi_articulating_hand'];
const MUSCLES = ['forearm_flexors', 'forearm_extensors', 'biceps', 'triceps', 'deltoid', 'pectoralis'];
const T0 = Date.parse('2026-11-01T00:00:00Z');

const INSERT_REAL = `
  INSERT INTO public.telemetry_events (event_uuid, user_id, prosthesis_type, muscle_group, signal_frequency,
                                       signal_duration, signal_amplitude, event_timestamp)
  SELECT * FROM unnest($1::uuid[], $2::int[], $3::text[], $4::text[], $5::int[], $6::int[], $7::float8[],
                       $8::timestamptz[])`;
// Changes two columns, so an update is visible in the checksums (sums of duration and amplitude).
const SET = 'SET signal_duration = signal_duration + 1, signal_amplitude = signal_amplitude + 0.5';
const BY_ID = 'WHERE id = ANY($1::bigint[])';

/** The statements, on the real table alone or on it and its twin at once (one statement, one transaction). */
function statements(twin: boolean): { insert: string; update: string; delete: string } {
  if (!twin) {
    return {
      insert: `${INSERT_REAL} RETURNING id`,
      update: `UPDATE public.telemetry_events ${SET} ${BY_ID}`,
      delete: `DELETE FROM public.telemetry_events ${BY_ID}`,
    };
  }
  // Data-modifying CTEs run whether referenced or not; the twin gets the very rows
  // (id, event_uuid, saved_ts included) that the real table got.
  return {
    insert: `WITH ins AS (${INSERT_REAL} RETURNING *) INSERT INTO ${TWIN} SELECT * FROM ins RETURNING id`,
    update: `WITH u AS (UPDATE public.telemetry_events ${SET} ${BY_ID} RETURNING 1) UPDATE ${TWIN} ${SET} ${BY_ID}`,
    delete: `WITH d AS (DELETE FROM public.telemetry_events ${BY_ID} RETURNING 1) DELETE FROM ${TWIN} ${BY_ID}`,
  };
}

const SQL = statements(WITH_PEER);

/**
 * The bench's rows and a seeded stream of changes to them. `live` holds the ids of
 * the rows inserted and not yet deleted (ids as text: bigint); updates and deletes
 * pick from it at random (seeded), so they hit old and new rows alike.
 */
class Workload {
  readonly live: string[] = [];
  readonly rnd: () => number;
  seq = 0;
  inserted = 0;
  updated = 0;
  deleted = 0;

  constructor(seed: number) {
    this.rnd = mulberry32(seed);
  }

  async insert(client: pg.PoolClient, n: number, userId?: number): Promise<string[]> {
    const cols: [string[], number[], string[], string[], number[], number[], number[], string[]] = [
      [], [], [], [], [], [], [], [],
    ];
    for (let i = 0; i < n; i++) {
      const k = this.seq++;
      cols[0].push(randomUUID());
      cols[1].push(userId ?? USER_MIN + (k % 100_000));
      cols[2].push(PROSTHESES[Math.floor(this.rnd() * PROSTHESES.length)]!);
      cols[3].push(MUSCLES[Math.floor(this.rnd() * MUSCLES.length)]!);
      cols[4].push(500 + Math.floor(this.rnd() * 1500));
      cols[5].push(Math.floor(this.rnd() * 1000));
      cols[6].push(Math.round(this.rnd() * 5_000_000) / 1_000_000);
      cols[7].push(new Date(T0 + k * 7).toISOString());
    }
    const { rows } = await client.query<{ id: string }>(SQL.insert, cols);
    const ids = rows.map((r) => r.id);
    this.inserted += ids.length;
    return ids;
  }

  /** n distinct live ids at random; with `remove`, they leave the live set (swap-remove). */
  pick(n: number, remove: boolean): string[] {
    const out: string[] = [];
    const count = Math.min(n, this.live.length);
    if (remove) {
      for (let i = 0; i < count; i++) {
        const j = Math.floor(this.rnd() * this.live.length);
        out.push(this.live[j]!);
        this.live[j] = this.live[this.live.length - 1]!;
        this.live.pop();
      }
    } else {
      // Distinct: a random window of the live array (itself shuffled by the swap-removes).
      const start = Math.floor(this.rnd() * (this.live.length - count + 1));
      out.push(...this.live.slice(start, start + count));
    }
    return out;
  }

  async update(client: pg.PoolClient, n: number): Promise<number> {
    const { rowCount } = await client.query(SQL.update, [this.pick(n, false)]);
    this.updated += rowCount ?? 0;
    return rowCount ?? 0;
  }

  async delete(client: pg.PoolClient, n: number): Promise<number> {
    const { rowCount } = await client.query(SQL.delete, [this.pick(n, true)]);
    this.deleted += rowCount ?? 0;
    return rowCount ?? 0;
  }

  /** One step of the 80/10/10 mix worth `changes` row changes; returns the rows changed. */
  async mixed(client: pg.PoolClient, changes: number): Promise<number> {
    const ins = Math.round(changes * 0.8);
    const upd = Math.round(changes * 0.1);
    const del = changes - ins - upd;
    this.live.push(...(await this.insert(client, ins)));
    return ins + (await this.update(client, upd)) + (await this.delete(client, del));
  }
}

// ---------------------------------------------------------------- state of the bench range

interface RangeState {
  n: number;
  duration: number;
  amplitude: number;
}

const RANGE = `user_id >= ${USER_MIN} AND user_id < ${USER_MAX}`;

async function pgState(table = 'public.telemetry_events'): Promise<RangeState> {
  const { rows } = await pool.query<{ n: string; duration: string; amplitude: number }>(
    `SELECT count(*) AS n, coalesce(sum(signal_duration), 0) AS duration, coalesce(sum(signal_amplitude), 0) AS amplitude
       FROM ${table} WHERE ${RANGE}`,
  );
  const r = rows[0]!;
  return { n: Number(r.n), duration: Number(r.duration), amplitude: Number(r.amplitude) };
}

interface Path {
  name: string;
  /** The PostgreSQL table it replicates. */
  source: string;
  /** The current state of the bench range, as a user of this path would query it. */
  stateSql: string;
  /** Which of these ids are visible: table read by primary key, the cheapest probe there is. */
  idsSql: (ids: string[]) => string;
}

const DEBEZIUM: Path = {
  name: 'Debezium → Kafka → ClickHouse',
  source: 'public.telemetry_events',
  // FINAL: the exact current state (latest version per id, deletes left out).
  stateSql: `SELECT count() AS n, sum(signal_duration) AS duration, sum(signal_amplitude) AS amplitude
               FROM default.telemetry_events FINAL WHERE ${RANGE}`,
  // No FINAL: a marker's first version is its insert; stored is visible.
  idsSql: (ids) => `SELECT toString(id) AS id FROM default.telemetry_events WHERE id IN (${ids.join(',')})`,
};

const PEER: Path = {
  name: 'ClickHouse MaterializedPostgreSQL',
  source: TWIN,
  // The engine reads its ReplacingMergeTree(_version) with FINAL and _sign > 0 by
  // itself, but a bare count() is answered from part metadata (tombstones and old
  // versions included), hence count(id).
  stateSql: `SELECT count(id) AS n, sum(signal_duration) AS duration, sum(signal_amplitude) AS amplitude
               FROM ${PEER_DB}.telemetry_events WHERE ${RANGE}`,
  idsSql: (ids) => `SELECT toString(id) AS id FROM ${PEER_DB}.telemetry_events WHERE id IN (${ids.join(',')})`,
};

async function chState(p: Path): Promise<RangeState> {
  const [r] = await chRows<{ n: number; duration: number; amplitude: number }>(p.stateSql);
  return { n: Number(r?.n ?? 0), duration: Number(r?.duration ?? 0), amplitude: Number(r?.amplitude ?? 0) };
}

// Counts and integer sums exactly; the float sum to a relative 1e-9 (ClickHouse and
// PostgreSQL add the same values in different orders).
const sameState = (a: RangeState, b: RangeState) =>
  a.n === b.n && a.duration === b.duration && Math.abs(a.amplitude - b.amplitude) <= 1e-9 * Math.max(1, Math.abs(b.amplitude));

/** Polls `p` until it shows `target`; returns the moment of the answer that did. */
async function waitEqual(p: Path, target: RangeState, timeoutMs: number): Promise<number> {
  let last: RangeState | undefined;
  let error = '';
  let lastSaid = now();
  return until(`${p.name} to reach ${target.n} rows`, timeoutMs, STATE_POLL_MS, async () => {
    // An error is retried: the server may be busy, the peer's table may not exist yet.
    last = await chState(p).catch((e: unknown) => {
      error = String(e);
      return undefined;
    });
    const t = now();
    if (last && sameState(last, target)) return t;
    if (t - lastSaid > 5_000) {
      lastSaid = t;
      say(`  … ${p.name}: ${last ? fmt(last.n) : `? (${error.slice(0, 200)})`} of ${fmt(target.n)} rows`);
    }
    return undefined;
  });
}

// ---------------------------------------------------------------- the peer

const pgUrl = new URL(env.TELEMETRY_DATABASE_URL);
const PG_DB = decodeURIComponent(pgUrl.pathname.replace(/^\//, ''));
const quote = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
let peerCreated = false;
/** Replication slots and publications the peer created (found by difference). */
const peerPgObjects = { slots: new Set<string>(), publications: new Set<string>() };

async function pgReplicationObjects(): Promise<{ slots: string[]; publications: string[] }> {
  const slots = await pool.query<{ name: string }>('SELECT slot_name AS name FROM pg_replication_slots');
  const pubs = await pool.query<{ name: string }>('SELECT pubname AS name FROM pg_publication');
  return { slots: slots.rows.map((r) => r.name), publications: pubs.rows.map((r) => r.name) };
}

// MaterializedPostgreSQL with materialized_postgresql_schema names its slot
// `<db>_<16 hex>_ch_replication_slot` and its publication `<db>_<16 hex>_ch_publication`
// (seen on chDB 26.7; a `_tmp` slot may exist during the snapshot); a run killed
// before its finally leaves them behind. Never anything of Debezium's (dbz_*).
const PEER_NAME = new RegExp(`^${PG_DB.replace(/[^A-Za-z0-9_]/g, '.')}(_[0-9a-f]{16})?_ch_(replication_slot|publication)(_tmp)?$`);
const isPeerName = (name: string) => !name.startsWith('dbz_') && PEER_NAME.test(name);

async function dropPeer(): Promise<void> {
  const exists = await chRows<{ name: string }>(`SELECT name FROM system.databases WHERE name = '${PEER_DB}'`);
  if (exists.length > 0) {
    say(`dropping ${PEER_DB} …`);
    await chCommand(`DROP DATABASE ${PEER_DB} SYNC`);
  }
  peerCreated = false;
  // DROP … SYNC removes the slot and the publication; check, and remove what is left.
  const left = await pgReplicationObjects();
  for (const slot of left.slots.filter((s) => peerPgObjects.slots.has(s) || isPeerName(s))) {
    say(`  dropping leftover replication slot ${slot}`);
    await pool.query('SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1 AND NOT active', [slot]);
  }
  for (const pub of left.publications.filter((p) => peerPgObjects.publications.has(p) || isPeerName(p))) {
    say(`  dropping leftover publication ${pub}`);
    await pool.query(`DROP PUBLICATION IF EXISTS ${pg.escapeIdentifier(pub)}`);
  }
  await pool.query(`DROP SCHEMA IF EXISTS ${TWIN_SCHEMA} CASCADE`);
}

async function createPeer(): Promise<void> {
  say(`creating ${TWIN} (the twin, replica identity DEFAULT) …`);
  peerCreated = true;
  await pool.query(`CREATE SCHEMA ${TWIN_SCHEMA}`);
  await pool.query(`CREATE TABLE ${TWIN} (LIKE public.telemetry_events INCLUDING ALL)`);
  const before = await pgReplicationObjects();
  const hostPort = `${pgUrl.hostname}:${pgUrl.port || '5432'}`;
  say(`creating ${PEER_DB} (MaterializedPostgreSQL of ${PG_DB}.${TWIN}) …`);
  await chCommand(
    `CREATE DATABASE ${PEER_DB}
       ENGINE = MaterializedPostgreSQL(${quote(hostPort)}, ${quote(PG_DB)}, ${quote(decodeURIComponent(pgUrl.username))}, ${quote(decodeURIComponent(pgUrl.password))})
       SETTINGS materialized_postgresql_schema = '${TWIN_SCHEMA}',
                materialized_postgresql_tables_list = 'telemetry_events',
                -- The default backoff between empty polls of the slot grows to 10 s, which
                -- would make an idle-then-busy path look 10 s stale; 10–100 ms is what a
                -- user who cares about freshness would set.
                materialized_postgresql_backoff_min_ms = 10,
                materialized_postgresql_backoff_max_ms = 100`,
    { allow_experimental_database_materialized_postgresql: 1 },
  );
  // The snapshot (of an empty twin) is done when the table answers; the warm-up
  // then proves that changes stream.
  await until(`${PEER_DB} snapshot`, 300_000, 200, async () => {
    try {
      await chRows(`SELECT count(id) AS n FROM ${PEER_DB}.telemetry_events`);
      return true;
    } catch {
      return undefined; // the nested table is created by the background sync
    }
  });
  const after = await pgReplicationObjects();
  for (const s of after.slots) if (!before.slots.includes(s)) peerPgObjects.slots.add(s);
  for (const p of after.publications) if (!before.publications.includes(p)) peerPgObjects.publications.add(p);
  say(`  snapshot done; slot(s) ${[...peerPgObjects.slots].join(', ') || '?'}, publication(s) ${[...peerPgObjects.publications].join(', ') || '?'}`);
}

/** The state every path must reach; the real table and its twin must agree on it. */
async function targetOf(paths: Path[]): Promise<RangeState> {
  const states = await Promise.all(paths.map((p) => pgState(p.source)));
  const first = states[0]!;
  for (const [i, st] of states.entries()) {
    if (!sameState(st, first)) throw new Error(`${paths[i]!.source} differs from ${paths[0]!.source}: ${JSON.stringify([st, first])}`);
  }
  return first;
}

// ---------------------------------------------------------------- cleanup

async function deleteBenchRows(): Promise<number> {
  const { rowCount } = await pool.query(`DELETE FROM public.telemetry_events WHERE ${RANGE}`);
  return rowCount ?? 0;
}

/** The Debezium path shows the range empty: the next run (and everybody else) starts clean. */
async function waitDebeziumEmpty(timeoutMs: number): Promise<void> {
  await until('the bench range to be empty in default.telemetry_events', timeoutMs, 1_000, async () =>
    (await chState(DEBEZIUM)).n === 0 ? true : undefined,
  );
}

// ---------------------------------------------------------------- phase 1

interface Phase1 {
  inserted: number;
  updated: number;
  deleted: number;
  pgRate: number;
  writeMs: number;
  statements: number;
  perPath: Map<Path, { rate: number; drainMs: number }>;
  final: RangeState;
}

interface Written {
  changes: number;
  statements: number;
  t0: number;
  lastCommit: number;
}

/**
 * `total` changes by the writers at once, as fast as PostgreSQL takes them. Each
 * writer changes only the rows it inserted itself (its own Workload), so two writers
 * never lock the same rows: no waits, no deadlocks, exactly `total` changes.
 */
async function writeChanges(ws: Workload[], total: number): Promise<Written> {
  let lastCommit = 0;
  let statements = 0;
  let changes = 0;
  let cycle = 0;
  const cycles = total / (10 * STATEMENT_ROWS);
  const writer = async (w: Workload) => {
    const client = await pool.connect();
    try {
      // The first cycles need live rows to update and delete: INSERT ×8, UPDATE, DELETE.
      while (cycle < cycles) {
        cycle++;
        checkStop();
        // (Never `changes += await …`: it reads `changes` before the await and would
        // lose the other writer's additions.)
        for (let i = 0; i < 8; i++) {
          const ids = await w.insert(client, STATEMENT_ROWS);
          w.live.push(...ids);
          changes += ids.length;
        }
        const updated = await w.update(client, STATEMENT_ROWS);
        changes += updated;
        const deleted = await w.delete(client, STATEMENT_ROWS);
        changes += deleted;
        statements += 10;
        lastCommit = now();
        if (statements % 50 === 0) say(`  ${fmt(changes)} changes committed, ${fmt(changes / ((lastCommit - t0) / 1000))}/s`);
      }
    } finally {
      client.release();
    }
  };
  const t0 = now();
  await Promise.all(ws.map(writer));
  if (changes !== total) throw new Error(`committed ${changes} changes, expected ${total}`);
  return { changes, statements, t0, lastCommit };
}

async function phase1(ws: Workload[], paths: Path[]): Promise<Phase1> {
  const { changes, statements, t0, lastCommit } = await writeChanges(ws, CHANGES);
  const writeMs = lastCommit - t0;
  const pgRate = changes / (writeMs / 1000);
  say(`  PostgreSQL: ${fmt(changes)} changes in ${secs(writeMs)}, ${fmt(pgRate)} changes/s`);
  const final = await targetOf(paths);

  // Both paths polled at once (their queries interleave in chDB's one executor).
  const perPath = new Map<Path, { rate: number; drainMs: number }>();
  await Promise.all(
    paths.map(async (p) => {
      const seen = await waitEqual(p, final, 600_000);
      const rate = changes / ((seen - t0) / 1000);
      perPath.set(p, { rate, drainMs: seen - lastCommit });
      say(`  ${p.name}: equal after ${secs(seen - t0)}, ${fmt(rate)} changes/s (${secs(seen - lastCommit)} after the last commit)`);
    }),
  );
  const sum = (f: (w: Workload) => number) => ws.reduce((a, w) => a + f(w), 0);
  return {
    inserted: sum((w) => w.inserted),
    updated: sum((w) => w.updated),
    deleted: sum((w) => w.deleted),
    pgRate,
    writeMs,
    statements,
    perPath,
    final,
  };
}

// ---------------------------------------------------------------- phase 2

interface Marker {
  id: string;
  committedAt: number;
}

interface Quantiles {
  p50: number;
  p99: number;
  max: number;
  n: number;
}

interface Phase2 {
  rate: number;
  achieved: number;
  markers: number;
  perPath: Map<Path, { latencies: number[]; missing: number; pollMs: number }>;
  cpu: Array<{ component: string; cores: number }>;
  /** Wall-clock start and end of the phase, for ClickHouse's own account of it (stagesOf). */
  window: [Date, Date];
}

/** The Debezium path's lag per change as ClickHouse stored it, whole and by stage. */
interface Stages {
  total: Quantiles;
  toKafka: Quantiles;
  intoClickHouse: Quantiles;
  /** Commit → the processor's analytics row; undefined if it has none of the phase's changes. */
  analytics?: Quantiles;
}

/**
 * Markers (and, with `rate` > 0, the mixed workload at that rate) for `seconds`.
 * Rate 0 is the quiet phase: the markers alone.
 */
async function phase2(w: Workload, paths: Path[], rate: number, seconds: number): Promise<Phase2> {
  const TICK_MS = 100;
  const perTick = Math.max(10, Math.round((rate * TICK_MS) / 1000));
  const markers: Marker[] = [];
  const seen = new Map<Path, Map<string, number>>(paths.map((p) => [p, new Map()]));
  const pollTimes = new Map<Path, number[]>(paths.map((p) => [p, []]));
  let writing = true;
  let halt = false;
  let changes = 0;
  const wallStart = new Date();

  const writer = async () => {
    if (rate === 0) {
      await sleep(seconds * 1000);
      return seconds;
    }
    const client = await pool.connect();
    try {
      const t0 = now();
      // Ticks at absolute times: a slow statement is caught up on, the rate does not drift.
      for (let tick = 0; now() - t0 < seconds * 1000 && !halt; tick++) {
        checkStop();
        const due = t0 + tick * TICK_MS;
        if (due > now()) await sleep(due - now());
        const n = await w.mixed(client, perTick);
        changes += n;
      }
      return (now() - t0) / 1000;
    } finally {
      client.release();
    }
  };

  const markerWriter = async () => {
    const client = await pool.connect();
    // Its own Workload stream: the markers do not shift the writer's seeded sequence.
    const mw = new Workload(99);
    try {
      const t0 = now();
      for (let i = 0; now() - t0 < seconds * 1000 && !halt; i++) {
        checkStop();
        const due = t0 + i * MARKER_EVERY_MS;
        if (due > now()) await sleep(due - now());
        const [id] = await mw.insert(client, 1, USER_MAX - 1);
        // Acknowledged = committed (autocommit): the latest moment the commit can have happened.
        markers.push({ id: id!, committedAt: now() });
      }
    } finally {
      client.release();
    }
  };

  const poller = async (p: Path) => {
    const got = seen.get(p)!;
    const times = pollTimes.get(p)!;
    const deadline = () => !writing && now() > stopPollingAt;
    while (!deadline() && !halt) {
      checkStop();
      const pending = markers.filter((m) => !got.has(m.id));
      if (pending.length === 0) {
        if (!writing) break;
        await sleep(MARKER_POLL_MS);
        continue;
      }
      const sent = now();
      const rows = await chRows<{ id: string }>(p.idsSql(pending.map((m) => m.id))).catch(() => []);
      // The answer's arrival: conservative (the row may have landed during the round trip,
      // whose mean is reported).
      const t = now();
      times.push(t - sent);
      for (const r of rows) got.set(r.id, t);
      await sleep(MARKER_POLL_MS);
    }
  };

  let stopPollingAt = Number.POSITIVE_INFINITY;
  // A failing task halts the others (they check `halt`), so nothing keeps writing
  // into the cleanup; every task is awaited before the first error is rethrown.
  const guard = <T>(task: Promise<T>) =>
    task.catch((e: unknown) => {
      halt = true;
      throw e;
    });
  const pollers = paths.map((p) => guard(poller(p)));
  const cpuBefore = cpuSnapshot();
  const cpuFrom = now();
  const writers = await Promise.allSettled([guard(writer()), guard(markerWriter())]);
  const cpu = cpuBetween(cpuBefore, cpuSnapshot(), now() - cpuFrom);
  writing = false;
  // Markers still on their way get 60 s; after that they count as missing.
  stopPollingAt = halt ? now() : now() + 60_000;
  const polled = await Promise.allSettled(pollers);
  for (const r of [...writers, ...polled]) if (r.status === 'rejected') throw r.reason;
  const writtenFor = (writers[0] as PromiseFulfilledResult<number>).value;
  const wallEnd = new Date();

  const perPath = new Map<Path, { latencies: number[]; missing: number; pollMs: number }>();
  for (const p of paths) {
    const got = seen.get(p)!;
    const latencies = markers.filter((m) => got.has(m.id)).map((m) => got.get(m.id)! - m.committedAt);
    const times = pollTimes.get(p)!;
    perPath.set(p, {
      latencies,
      missing: markers.length - latencies.length,
      pollMs: times.reduce((a, b) => a + b, 0) / Math.max(1, times.length),
    });
  }

  return { rate, achieved: changes / writtenFor, markers: markers.length, perPath, cpu, window: [wallStart, wallEnd] };
}

const chTime = (d: Date) => `toDateTime64('${d.toISOString().replace('T', ' ').replace('Z', '')}', 3, 'UTC')`;

/**
 * The Debezium path's lag over the changes committed in [from, to], as ClickHouse
 * stored it: commit (source.ts_ms) → Kafka (_kafka_ts) → stored (_ingested_at), and
 * commit → the processor's analytics row (_processed_at; inserts and updates).
 */
async function stagesOf([from, to]: [Date, Date]): Promise<Stages | undefined> {
  const q = (name: string, expr: string) =>
    `quantileExact(0.5)(${expr}) AS ${name}_p50, quantileExact(0.99)(${expr}) AS ${name}_p99, max(${expr}) AS ${name}_max, count() AS ${name}_n`;
  const pick = (row: Record<string, number | string> | undefined, name: string): Quantiles | undefined => {
    const n = Number(row?.[`${name}_n`] ?? 0);
    if (!row || n === 0) return undefined;
    return { p50: Number(row[`${name}_p50`]), p99: Number(row[`${name}_p99`]), max: Number(row[`${name}_max`]), n };
  };
  const window = `${RANGE} AND _source_ts >= ${chTime(from)} AND _source_ts <= ${chTime(to)}`;
  const [r] = await chRows<Record<string, number>>(
    `SELECT ${q('total', "dateDiff('millisecond', _source_ts, _ingested_at)")},
            ${q('to_kafka', "dateDiff('millisecond', _source_ts, _kafka_ts)")},
            ${q('into_clickhouse', "dateDiff('millisecond', _kafka_ts, _ingested_at)")}
       FROM debezium.telemetry_events_merge WHERE ${window} AND _kafka_ts > toDateTime64(0, 3, 'UTC')`,
  );
  const [a] = await chRows<Record<string, number>>(
    `SELECT ${q('analytics', "dateDiff('millisecond', _source_ts, _processed_at)")}
       FROM analytics.telemetry_enriched WHERE ${window} AND _is_deleted = 0`,
  );
  const total = pick(r, 'total');
  if (!total) return undefined;
  const analytics = pick(a, 'analytics');
  return { total, toKafka: pick(r, 'to_kafka')!, intoClickHouse: pick(r, 'into_clickhouse')!, ...(analytics && { analytics }) };
}

const latencyLine = (r: { latencies: number[]; missing: number }) =>
  `p50 ${fmt(percentile(r.latencies, 50))} ms, p99 ${fmt(percentile(r.latencies, 99))} ms, missing ${r.missing}`;

/** The bench range's current events in the processor's analytics table. */
async function analyticsCount(): Promise<number> {
  const [r] = await chRows<{ n: number }>(`SELECT count() AS n FROM analytics.telemetry_enriched FINAL WHERE ${RANGE} AND _is_deleted = 0`);
  return Number(r?.n ?? 0);
}

// ---------------------------------------------------------------- main

// ---------------------------------------------------------------- phase 3

const CONNECTOR = 'telemetry-connector';
const connect = new ConnectClient(env.KAFKA_CONNECT_URL);

async function connectorState(): Promise<string | undefined> {
  const st = await connect.status(CONNECTOR);
  if (!st) return undefined;
  const states = new Set([st.connector.state, ...st.tasks.map((t) => t.state)]);
  return states.size === 1 ? [...states][0] : [...states].join('/');
}

/**
 * Stops the Debezium path reading PostgreSQL while its slot keeps every change: the
 * connector paused in Kafka Connect. The peer cannot be paused this way: ClickHouse
 * refuses DETACH DATABASE for MaterializedPostgreSQL (Code 48: "DETACH TABLE not
 * allowed, use DETACH PERMANENTLY", and a permanent detach drops its replication), so
 * phase 3 measures the Debezium path alone.
 */
async function pauseDebezium(): Promise<void> {
  await connect.pause(CONNECTOR);
  await until(`${CONNECTOR} to be PAUSED`, 60_000, 250, async () => ((await connectorState()) === 'PAUSED' ? true : undefined));
}

interface Phase3 {
  changes: number;
  writeMs: number;
  pgRate: number;
  /** The Debezium path's drain (the peer cannot be paused). */
  drain: { rate: number; drainMs: number };
  /** CPU per stack component during the drain: each stage's cost per change at its ceiling. */
  cpu: Array<{ component: string; cores: number }>;
}

/**
 * Backlog: the Debezium connector paused, BACKLOG changes committed, the connector
 * resumed; the path's drain rate is changes / (seen equal to PostgreSQL − resume),
 * its own ceiling with the writer out of the picture. The peer keeps replicating
 * meanwhile (see pauseDebezium), so it is only waited for, not timed.
 */
async function phase3(ws: Workload[], paths: Path[]): Promise<Phase3> {
  let resumedAt: number | undefined;
  try {
    say(`  pausing ${CONNECTOR} …`);
    await pauseDebezium();
    const { changes, t0, lastCommit } = await writeChanges(ws, BACKLOG);
    const writeMs = lastCommit - t0;
    say(`  PostgreSQL: ${fmt(changes)} changes in ${secs(writeMs)} while the connector was paused; resuming it …`);
    const final = await targetOf(paths);
    const cpuBefore = cpuSnapshot();
    resumedAt = now();
    await connect.resume(CONNECTOR);
    const start = resumedAt;
    const seen = await waitEqual(DEBEZIUM, final, 1_800_000);
    const cpu = cpuBetween(cpuBefore, cpuSnapshot(), seen - start);
    say(`  ${DEBEZIUM.name}: drained in ${secs(seen - start)}, ${fmt(changes / ((seen - start) / 1000))} changes/s`);
    if (paths.includes(PEER)) await waitEqual(PEER, final, 600_000);
    return { changes, writeMs, pgRate: changes / (writeMs / 1000), drain: { rate: changes / ((seen - start) / 1000), drainMs: seen - start }, cpu };
  } finally {
    if (resumedAt === undefined) await connect.resume(CONNECTOR).catch((err: Error) => say(`  could not resume ${CONNECTOR}: ${err.message}`));
  }
}

/** The components that used CPU, in cores, and in µs per change when the changes and their span are given. */
function cpuList(cpu: Array<{ component: string; cores: number }>, per?: { changes: number; ms: number }): string {
  return cpu
    .filter((c) => c.cores >= 0.005)
    .map((c) => `${c.component} ${fmt(c.cores, 2)}${per ? ` (${fmt((c.cores * per.ms * 1000) / per.changes)} µs)` : ''}`)
    .join(', ');
}

async function main(): Promise<void> {
  const startedAt = new Date().toISOString();
  const paths = WITH_PEER ? [DEBEZIUM, PEER] : [DEBEZIUM];

  // A run killed in phase 3 leaves the connector paused: this run resumes it.
  if ((await connectorState().catch(() => undefined)) === 'PAUSED') {
    say(`${CONNECTOR} is paused (left so by a killed run?): resuming it …`);
    await connect.resume(CONNECTOR);
  }
  await until(`${CONNECTOR} to be RUNNING at ${env.KAFKA_CONNECT_URL}`, 60_000, 500, async () =>
    (await connectorState().catch(() => undefined)) === 'RUNNING' ? true : undefined,
  );

  // A processor still working through an earlier backlog would load the ClickHouse
  // server through the whole run and make every figure worse than it is.
  say('waiting for the stream processor to have caught up (stream-processor-enrich) …');
  const kafka = createKafka({ ...kafkaAccess(env), logLevel: 'error' }, 'bench-cdc');
  await until('the stream processor to catch up before the run', 900_000, 2_000, () =>
    withAdmin(kafka, env.KAFKA_BROKERS, async (admin) =>
      (await groupCaughtUp(admin, 'stream-processor-enrich', DEBEZIUM_TOPIC)) ? true : undefined,
    ),
  );

  say(`cleaning up: ${PEER_DB}, ${TWIN_SCHEMA}, user_id range [${USER_MIN}, ${USER_MAX}) …`);
  await dropPeer();
  const leftovers = await deleteBenchRows();
  if (leftovers > 0) say(`  deleted ${fmt(leftovers)} leftover row(s)`);
  await waitDebeziumEmpty(600_000);

  if (WITH_PEER) await createPeer();

  // Both paths live before the clock starts: one row through each, then gone.
  say('warm-up: one row through each path …');
  {
    const w = new Workload(1);
    const client = await pool.connect();
    try {
      w.live.push(...(await w.insert(client, 10)));
      const target = await targetOf(paths);
      await Promise.all(paths.map((p) => waitEqual(p, target, 120_000)));
      await w.delete(client, 10);
      const empty = await targetOf(paths);
      await Promise.all(paths.map((p) => waitEqual(p, empty, 120_000)));
    } finally {
      client.release();
    }
  }

  let p0: Phase2 | undefined;
  if (QUIET_SECONDS > 0) {
    say(`phase 0: quiet, a marker every ${MARKER_EVERY_MS} ms for ${QUIET_SECONDS} s …`);
    p0 = await phase2(new Workload(7), paths, 0, QUIET_SECONDS);
    for (const p of paths) say(`  ${p.name}: ${latencyLine(p0.perPath.get(p)!)}`);
  }

  const ws = Array.from({ length: WRITERS }, (_, i) => new Workload(42 + i));
  const w = ws[0]!;
  say(`phase 1: ${fmt(CHANGES)} changes (statements of ${fmt(STATEMENT_ROWS)} rows, INSERT/UPDATE/DELETE 80/10/10, ${WRITERS} connection(s)) …`);
  const p1 = await phase1(ws, paths);
  // Half the peer's sustained rate when it runs: the load at which both are compared.
  const reference = p1.perPath.get(WITH_PEER ? PEER : DEBEZIUM)!;
  const rate = args.rate !== undefined ? Number(args.rate) : Math.round(reference.rate / 2);

  say(`phase 2: ${fmt(rate)} changes/s for ${SECONDS} s, a marker every ${MARKER_EVERY_MS} ms …`);
  const p2 = await phase2(w, paths, rate, SECONDS);
  for (const p of paths) say(`  ${p.name}: ${latencyLine(p2.perPath.get(p)!)}`);

  // Not timed: both paths must end equal to PostgreSQL, or the figures mean nothing.
  say('checking that both paths equal PostgreSQL …');
  const final = await targetOf(paths);
  await Promise.all(paths.map((p) => waitEqual(p, final, 300_000)));

  // The processor's analytics rows of phase 2, once it has caught up with it.
  const processorCaughtUp = await until('the processor to catch up', 180_000, 1_000, async () =>
    (await analyticsCount()) === final.n ? true : undefined,
  ).catch(() => false);
  const stages = await stagesOf(p2.window);
  const quietStages = p0 ? await stagesOf(p0.window) : undefined;

  // After phase 2's figures are taken: the backlog would hold the processor up for minutes.
  let p3: Phase3 | undefined;
  if (BACKLOG > 0) {
    say(`phase 3: backlog of ${fmt(BACKLOG)} changes (${WRITERS} connection(s)) while the Debezium connector is paused, then drained …`);
    p3 = await phase3(ws, paths);
  }

  // ---------------------------------------------------------------- report
  const cpus = os.cpus();
  const ms = (x: number) => (Number.isFinite(x) ? `${fmt(x)} ms` : '–');
  const lat = (r: { latencies: number[] } | undefined, p: number) => (r ? ms(percentile(r.latencies, p)) : '–');
  const peer1 = WITH_PEER ? p1.perPath.get(PEER)! : undefined;
  const peer2 = WITH_PEER ? p2.perPath.get(PEER)! : undefined;
  const lines = [
    '### CDC benchmark: PostgreSQL commit → ClickHouse-visible',
    '',
    `Date: ${new Date().toISOString()}. Machine: ${machineDescription()}, ` +
      `load average at the end ${loadAverage()}. PostgreSQL, Kafka, Kafka Connect, ` +
      `ClickHouse (chDB), the stream processor and this script share the machine${WITH_PEER ? '; both paths ran at the same time, in the same ClickHouse process' : ''}.`,
    '',
    `Phase 0 (quiet): markers only, for ${QUIET_SECONDS} s. Phase 1: ${fmt(CHANGES)} changes (${fmt(p1.inserted)} rows inserted, ${fmt(p1.updated)} updated, ${fmt(p1.deleted)} deleted; ` +
      `${p1.statements} statements of ${fmt(STATEMENT_ROWS)} rows, ${WRITERS} connection(s), autocommit; PostgreSQL took ${secs(p1.writeMs)}), sustained = changes / (path equal to ` +
      `PostgreSQL − start of the first statement). Phase 2 (load): ${fmt(p2.rate)} changes/s target (${args.rate !== undefined ? '--rate' : WITH_PEER ? "half the peer's sustained rate" : 'half the Debezium path\'s'}), ` +
      `${fmt(p2.achieved)} achieved, for ${SECONDS} s. Markers: one row every ${MARKER_EVERY_MS} ms on its own connection, each timed from ` +
      `PostgreSQL's acknowledgement of its commit to the first poll answer (every ${MARKER_POLL_MS} ms, by primary key) that showed it.`,
    '',
    `| path | sustained changes/s | ratio to the peer | caught up after last commit | quiet p50 | quiet p99 | load p50 | load p99 | load max |`,
    '|---|---|---|---|---|---|---|---|---|',
    `| PostgreSQL commits (the writer's ceiling) | ${fmt(p1.pgRate)} | – | – | – | – | – | – | – |`,
  ];
  for (const p of paths) {
    const t = p1.perPath.get(p)!;
    const f = p2.perPath.get(p)!;
    const q = p0?.perPath.get(p);
    lines.push(
      `| ${p.name} | **${fmt(t.rate)}** | ${peer1 ? fmt(t.rate / peer1.rate, 2) : '–'} | ${secs(t.drainMs)} | ${lat(q, 50)} | ${lat(q, 99)} | ` +
        `**${lat(f, 50)}** | **${lat(f, 99)}** | ${ms(Math.max(...f.latencies))}${f.missing ? ` (${f.missing} marker(s) never seen)` : ''} |`,
    );
  }
  lines.push('');
  // Decided once: the report's sentence and the --json figures say the same.
  let goals: { sustained: boolean; loadP50: boolean; loadP99: boolean } | undefined;
  if (peer1 && peer2) {
    const d = p2.perPath.get(DEBEZIUM)!;
    const ok = (b: boolean) => (b ? 'met' : 'not met');
    const [d50, d99, q50, q99] = [percentile(d.latencies, 50), percentile(d.latencies, 99), percentile(peer2.latencies, 50), percentile(peer2.latencies, 99)];
    const ratio = p1.perPath.get(DEBEZIUM)!.rate / peer1.rate;
    goals = { sustained: ratio >= 1.2, loadP50: d50 <= q50, loadP99: d99 <= q99 && d99 <= 600 && d.missing === 0 };
    lines.push(
      `Goals (issue 14), from this run: sustained ≥ 1.2× the peer: ${fmt(ratio, 2)}×, ${ok(goals.sustained)}; ` +
        `under load p50 ≤ the peer's: ${ok(goals.loadP50)}; p99 ≤ the peer's and ≤ 600 ms: ${ok(goals.loadP99)}.`,
      '',
    );
  }
  if (p3) {
    const d3 = p3.drain;
    lines.push(
      `Phase 3 (backlog): ${fmt(p3.changes)} changes committed by ${WRITERS} connection(s) in ${secs(p3.writeMs)} (${fmt(p3.pgRate)}/s) ` +
        `while the Debezium connector was paused, then resumed: drained in ${secs(d3.drainMs)}, **${fmt(d3.rate)} changes/s** ` +
        `(${fmt(d3.rate / p3.pgRate, 2)}× the writers' commit rate). The peer cannot be paused (ClickHouse refuses DETACH DATABASE for ` +
        'MaterializedPostgreSQL), so it replicated the backlog as it was written and has no drain figure.',
      '',
      `CPU during the drain (cores, of ${cpus.length}, and µs per drained change; from /proc): ` +
        `${cpuList(p3.cpu, { changes: p3.changes, ms: d3.drainMs })}. The stream processor works through the same backlog meanwhile.`,
      '',
    );
  }
  const stageRow = (name: string, st: Stages | undefined) =>
    st
      ? `| ${name} | ${ms(st.toKafka.p50)} / ${ms(st.toKafka.p99)} | ${ms(st.intoClickHouse.p50)} / ${ms(st.intoClickHouse.p99)} | ` +
        `${ms(st.total.p50)} / ${ms(st.total.p99)} | ${st.analytics ? `${ms(st.analytics.p50)} / ${ms(st.analytics.p99)}` : '–'} | ${fmt(st.total.n)} |`
      : `| ${name} | – | – | – | – | 0 |`;
  lines.push(
    "Where the Debezium path's time goes, per change, from ClickHouse's own columns (p50 / p99): commit → Kafka is " +
      '_kafka_ts − _source_ts (Debezium, Kafka Connect); Kafka → ClickHouse is _ingested_at − _kafka_ts (the Kafka engine and its views); ' +
      `analytics is the processor's _processed_at − _source_ts${processorCaughtUp ? '' : ' (the processor had not caught up within 3 min: its figure covers only what it had written)'}.`,
    '',
    '| phase | commit → Kafka | Kafka → ClickHouse | commit → ClickHouse | commit → analytics | changes |',
    '|---|---|---|---|---|---|',
    stageRow('quiet', quietStages),
    stageRow(`load (${fmt(p2.achieved)}/s)`, stages),
    '',
    `CPU used during phase 2 (cores, of ${cpus.length}; from /proc): ${cpuList(p2.cpu)}.`,
    '',
  );
  for (const p of paths) lines.push(`- ${p.name}: mean marker-poll round trip ${fmt(p2.perPath.get(p)!.pollMs, 1)} ms under load (included in its latencies).`);
  console.log(lines.join('\n'));

  if (args.json === undefined) return;
  // Ours and, when it ran, the peer: a figure per path, null where the path gave none.
  const perPath = (f: (p: Path) => number | undefined): Metric['values'] => ({
    ours: figure(f(DEBEZIUM)),
    ...(WITH_PEER && { peer: figure(f(PEER)) }),
  });
  const latency = (phase: Phase2, q: number) => perPath((p) => percentile(phase.perPath.get(p)!.latencies, q));
  const metrics: Metric[] = [
    {
      id: 'cdc.sustained', label: 'sustained throughput', unit: 'changes/s', better: 'higher',
      values: { ...perPath((p) => p1.perPath.get(p)!.rate), limit: figure(p1.pgRate) },
      ...(goals && { goal: { text: '≥ 1.2× the peer', met: goals.sustained } }),
    },
  ];
  if (p0) {
    metrics.push(
      { id: 'cdc.quiet_p50', label: 'freshness when quiet, p50', unit: 'ms', better: 'lower', values: latency(p0, 50) },
      { id: 'cdc.quiet_p99', label: 'freshness when quiet, p99', unit: 'ms', better: 'lower', values: latency(p0, 99) },
    );
  }
  metrics.push(
    {
      id: 'cdc.load_p50', label: `freshness under load (${fmt(p2.achieved)} changes/s), p50`, unit: 'ms', better: 'lower',
      values: latency(p2, 50), ...(goals && { goal: { text: "≤ the peer's", met: goals.loadP50 } }),
    },
    {
      id: 'cdc.load_p99', label: `freshness under load (${fmt(p2.achieved)} changes/s), p99`, unit: 'ms', better: 'lower',
      values: latency(p2, 99), ...(goals && { goal: { text: "≤ the peer's and ≤ 600 ms, every marker seen", met: goals.loadP99 } }),
    },
  );
  if (p3) {
    metrics.push({
      id: 'cdc.backlog_drain', label: `backlog drain (${fmt(p3.changes)} changes)`, unit: 'changes/s', better: 'higher',
      values: { ours: figure(p3.drain.rate), ...(WITH_PEER && { peer: null }) },
    });
  }
  const missing = paths.filter((p) => p2.perPath.get(p)!.missing > 0).map((p) => `${p.name}: ${p2.perPath.get(p)!.missing} marker(s) never seen under load`);
  writeResult(args.json, {
    bench: 'cdc',
    startedAt,
    finishedAt: new Date().toISOString(),
    machine: machineDescription(),
    command: commandLine('cdc'),
    paths: {
      ours: DEBEZIUM.name,
      ...(WITH_PEER && { peer: `${PEER.name} (a twin table, written in the same transactions)` }),
      limit: "PostgreSQL commits (the writers' ceiling)",
    },
    settings: {
      changes: CHANGES, writers: WRITERS, statementRows: STATEMENT_ROWS, quietSeconds: QUIET_SECONDS, loadSeconds: SECONDS,
      loadRate: Math.round(p2.rate), loadRateFrom: args.rate !== undefined ? '--rate' : WITH_PEER ? "half the peer's sustained rate" : "half the Debezium path's",
      markerEveryMs: MARKER_EVERY_MS, markerPollMs: MARKER_POLL_MS, backlog: BACKLOG, peer: WITH_PEER,
    },
    metrics,
    notes: [
      `load average at the end ${loadAverage()}`,
      ...missing,
      ...(p3 ? [`backlog: the writers committed ${fmt(p3.pgRate)} changes/s with the connector paused; the peer cannot be paused, so it has no drain figure`] : []),
    ],
  });
  say(`figures written to ${args.json}`);
}

async function cleanUp(): Promise<void> {
  // The peer first: it would otherwise replicate every delete below for nothing.
  if (WITH_PEER || peerCreated) await dropPeer();
  const removed = await deleteBenchRows();
  if (removed > 0) say(`deleted the bench's ${fmt(removed)} row(s); waiting for the deletes to reach default.telemetry_events …`);
  await waitDebeziumEmpty(600_000);
  const left = await pgReplicationObjects();
  const mine = [...left.slots, ...left.publications].filter((n) => isPeerName(n) || peerPgObjects.slots.has(n) || peerPgObjects.publications.has(n));
  const schema = await pool.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [TWIN_SCHEMA]);
  if (schema.rowCount) mine.push(`schema ${TWIN_SCHEMA}`);
  if (mine.length > 0) throw new Error(`left behind in PostgreSQL: ${mine.join(', ')}`);
}

await runBench(main, [{ name: 'cleanup', run: cleanUp }], async () => {
  await pool.end();
  await ch.close();
});
