/**
 * npm run bench:snapshot -- [--rows 10000000] [--workers 2] [--range-pages 8192]
 *       [--paths limit,ours,peer,debezium] [--repeat 3] [--debezium-timeout-s 1800] [--keep-source] [--json FILE]
 *
 * The initial snapshot of a large telemetry table, from nothing to every row in
 * ClickHouse, by each path in turn on the same source table (issue 14, item 3):
 *
 *   limit     COPY out of PostgreSQL straight into a plain MergeTree: the same ranges,
 *             rows and columns as `ours`, without the version; what no path beats
 *   ours      `npm run snapshot` (scripts/snapshot/copy.ts) into a table made AS
 *             default.telemetry_events (its ReplacingMergeTree and columns)
 *   peer      ClickHouse's MaterializedPostgreSQL: CREATE DATABASE until the table holds
 *             every row (its initial sync)
 *   debezium  a Debezium connector's initial snapshot (snapshot.mode=initial) into its
 *             own topic, read by a Kafka-engine table into a ReplacingMergeTree; the
 *             parse view is leaner than production's (no error routing), which favours it
 *
 * The source is its own table (cdc_bench_snapshot.telemetry_events, replica identity
 * DEFAULT, as the peer needs), filled by generate_series and frozen by VACUUM before
 * the first path, so that no path pays for hint bits another path set. Paths run one
 * at a time, each on the otherwise idle stack; each is checked against PostgreSQL
 * (row count and sums of id, signal_duration and signal_amplitude) before it counts.
 * Everything the bench creates is dropped at the end; --keep-source keeps the filled
 * table for the next run.
 */
import { parseArgs } from 'node:util';
import path from 'node:path';
import pg from 'pg';
import { ClickHouseLogLevel, createClient } from '@clickhouse/client';
import { ConnectClient } from '@cdc/connect';
import { loadDotEnv, loadEndpoints } from '@cdc/config';
import { createKafka, kafkaAccess, withAdmin } from '@cdc/kafka';
import { copyTable, pgSourceOf, TELEMETRY_EVENTS, type SnapshotTable } from '../snapshot/copy.js';
import { grantFor } from '../stack/kafka-acl.js';
import { checkStop, fmt, now, runBench, say, secs, stopOnInterrupt, until } from './support.js';
import { commandLine, figure, loadAverage, machineDescription, parseOrExit, writeResult, type Metric } from './results.js';

const USAGE = `usage: npm run bench:snapshot -- [options]

  --rows N                rows in the source table (default 10000000)
  --workers N             parallel COPY streams of limit and ours (default 2)
  --range-pages N         heap pages per range of limit and ours (default 8192)
  --paths LIST            which paths, comma-separated (default limit,ours,peer,debezium)
  --repeat N              rounds of limit, ours and peer, in rotating order; the median counts (default 3)
  --debezium-timeout-s S  how long the Debezium snapshot may take (default 1800)
  --keep-source           keep the filled source table (and reuse one of the same size)
  --json FILE             also write the figures for npm run bench:perf
  --help                  this text

Needs the native stack (npm run up). Takes about 15–30 minutes at 10,000,000 rows.`;

const ALL_PATHS = ['limit', 'ours', 'peer', 'debezium'] as const;
type PathId = (typeof ALL_PATHS)[number];

const { values: args } = parseOrExit(USAGE, () =>
  parseArgs({
    options: {
      rows: { type: 'string', default: '10000000' },
      workers: { type: 'string', default: '2' },
      'range-pages': { type: 'string', default: '8192' },
      paths: { type: 'string', default: ALL_PATHS.join(',') },
      repeat: { type: 'string', default: '3' },
      'debezium-timeout-s': { type: 'string', default: '1800' },
      'keep-source': { type: 'boolean', default: false },
      json: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  }),
);

function positiveInt(name: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) {
    process.stderr.write(`--${name}: a positive integer\n\n${USAGE}\n`);
    process.exit(2);
  }
  return n;
}
const ROWS = positiveInt('rows', args.rows);
const WORKERS = positiveInt('workers', args.workers);
const RANGE_PAGES = positiveInt('range-pages', args['range-pages']);
const REPEAT = positiveInt('repeat', args.repeat);
const DEBEZIUM_TIMEOUT_MS = positiveInt('debezium-timeout-s', args['debezium-timeout-s']) * 1000;
const PATHS = args.paths.split(',').map((p) => p.trim()) as PathId[];
for (const p of PATHS) {
  if (!ALL_PATHS.includes(p)) {
    process.stderr.write(`--paths: each one of ${ALL_PATHS.join(', ')}, not ${p}\n\n${USAGE}\n`);
    process.exit(2);
  }
}

const SCHEMA = 'cdc_bench_snapshot';
const SOURCE = `${SCHEMA}.telemetry_events`;
const CH_DB = 'bench_snapshot';
const PEER_DB = 'mpg_bench_snapshot';
const CONNECTOR = 'bench-snapshot-connector';
const SLOT = 'dbz_bench_snapshot';
const TOPIC_PREFIX = 'bench_snapshot';
const TOPIC = `${TOPIC_PREFIX}.${SOURCE}`;
const POLL_MS = 500;
const FILL_ROWS = 250_000;
const SLOT_WAL_LIMIT = 1024 ** 3;

loadDotEnv(path.join(import.meta.dirname, '../../.env'));
const env = loadEndpoints();
const pool = new pg.Pool({ connectionString: env.TELEMETRY_DATABASE_URL, max: WORKERS + 4 });
const ch = createClient({
  url: env.CLICKHOUSE_URL,
  username: env.CLICKHOUSE_USER,
  password: env.CLICKHOUSE_PASSWORD,
  request_timeout: 1_800_000,
  max_open_connections: WORKERS + 2,
  log: { level: ClickHouseLogLevel.OFF },
  clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
});
const connect = new ConnectClient(env.KAFKA_CONNECT_URL);
const kafka = createKafka({ ...kafkaAccess(env), logLevel: 'error' }, 'bench-snapshot');
let revokeAcls: (() => Promise<void>) | undefined;
const pgUrl = new URL(env.TELEMETRY_DATABASE_URL);

stopOnInterrupt();

async function chRows<T>(query: string): Promise<T[]> {
  return (await ch.query({ query, format: 'JSONEachRow' })).json<T>();
}
const chCommand = (query: string, settings?: Record<string, number>) =>
  ch.command({ query, ...(settings ? { clickhouse_settings: settings } : {}) });

// ---------------------------------------------------------------- the source

/** What every path must reach: count and sums, compared exactly (sums of Float64 to 1e-9 relative). */
interface Checksum {
  n: number;
  ids: string;
  durations: string;
  amplitude: number;
}

const CHECKSUM_SQL = (table: string, final = '') =>
  `SELECT count() AS n, toString(sum(id)) AS ids, toString(sum(signal_duration)) AS durations, sum(signal_amplitude) AS amplitude FROM ${table} ${final}`;

async function pgChecksum(): Promise<Checksum> {
  const { rows } = await pool.query<{ n: string; ids: string; durations: string; amplitude: number }>(
    `SELECT count(*) AS n, sum(id)::text AS ids, sum(signal_duration)::text AS durations, sum(signal_amplitude)::float8 AS amplitude FROM ${SOURCE}`,
  );
  const r = rows[0]!;
  return { n: Number(r.n), ids: r.ids ?? '0', durations: r.durations ?? '0', amplitude: r.amplitude ?? 0 };
}

const sameChecksum = (a: Checksum, b: Checksum) =>
  a.n === b.n && a.ids === b.ids && a.durations === b.durations && Math.abs(a.amplitude - b.amplitude) <= 1e-9 * Math.max(1, Math.abs(b.amplitude));

async function fillSource(): Promise<{ seconds: number; reused: boolean }> {
  const exists = (await pool.query('SELECT to_regclass($1) IS NOT NULL AS e', [SOURCE])).rows[0]?.e === true;
  if (exists && Number((await pool.query(`SELECT count(*) AS n FROM ${SOURCE}`)).rows[0]?.n) === ROWS) {
    say(`${SOURCE} already holds ${fmt(ROWS)} rows: reused`);
    return { seconds: 0, reused: true };
  }
  await pool.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
  await pool.query(`CREATE SCHEMA ${SCHEMA}`);
  // The same columns as public.telemetry_events, its CHECKs and indexes too; ids given.
  await pool.query(`CREATE TABLE ${SOURCE} (LIKE public.telemetry_events INCLUDING ALL)`);
  await pool.query(`ALTER TABLE ${SOURCE} ALTER COLUMN id DROP DEFAULT`);
  say(`filling ${SOURCE} with ${fmt(ROWS)} rows …`);
  const t0 = now();
  // In transactions of FILL_ROWS, each after every slot has released the WAL before it:
  // a replication slot cannot let go of WAL written since the oldest transaction still
  // running, and one 10,000,000-row transaction writes more than max_slot_wal_keep_size
  // (4 GB on this stack), which would invalidate the pipeline's own slot.
  for (let lo = 1; lo <= ROWS; lo += FILL_ROWS) {
    checkStop();
    await slotsHoldLessThan(SLOT_WAL_LIMIT);
    await pool.query(
      `INSERT INTO ${SOURCE} (id, event_uuid, user_id, prosthesis_type, muscle_group, signal_frequency, signal_duration,
                              signal_amplitude, event_timestamp, saved_ts, request_id)
       SELECT g, gen_random_uuid(), 1 + g % 5000,
              (ARRAY['myoelectric_hand','bionic_arm','body_powered_hook','hybrid_elbow','multi_articulating_hand'])[1 + g % 5],
              (ARRAY['forearm_flexors','forearm_extensors','biceps','triceps','deltoid','pectoralis'])[1 + g % 6],
              50 + g % 950, 1 + g % 5000, (g % 100003) / 997.0,
              timestamptz '2026-11-01 00:00:00+00' + make_interval(secs => g * 0.05),
              timestamptz '2026-11-01 00:00:01+00' + make_interval(secs => g * 0.05),
              CASE WHEN g % 10 = 0 THEN 'bench-' || g END
       FROM generate_series($1::bigint, $2::bigint) AS g`,
      [lo, Math.min(ROWS, lo + FILL_ROWS - 1)],
    );
  }
  // Frozen and analysed once, so the first path does not pay for hint bits the others reuse.
  await pool.query(`VACUUM (FREEZE, ANALYZE) ${SOURCE}`);
  const seconds = (now() - t0) / 1000;
  say(`  filled in ${secs(seconds * 1000)} (${fmt(ROWS / seconds)} rows/s, VACUUM included)`);
  await slotsCaughtUp();
  return { seconds, reused: false };
}

/** Waits until no slot of the database keeps more than `bytes` of WAL behind the current position. */
async function slotsHoldLessThan(bytes: number): Promise<void> {
  await until('the replication slots to release WAL', 600_000, 500, async () => {
    const { rows } = await pool.query<{ held: string | null }>(
      `SELECT max(pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn))::text AS held FROM pg_replication_slots
       WHERE database = current_database() AND wal_status IN ('reserved', 'extended')`,
    );
    return Number(rows[0]?.held ?? 0) < bytes ? true : undefined;
  });
}

/**
 * Every replication slot decodes the fill's WAL (production's connectors too, only to
 * filter it out): the first path measured must not share the machine with that.
 */
async function slotsCaughtUp(): Promise<void> {
  say('waiting for the replication slots to decode past the fill …');
  await until('the replication slots to catch up', 600_000, 1_000, async () => {
    const { rows } = await pool.query<{ behind: string | null }>(
      `SELECT max(pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn))::text AS behind FROM pg_replication_slots WHERE active`,
    );
    return Number(rows[0]?.behind ?? 0) < 16 * 1024 * 1024 ? true : undefined;
  });
}

// ---------------------------------------------------------------- the paths

interface Outcome {
  ms: number;
  rows: number;
  /** The path did not finish (timed out): rows/s over what it did. */
  partial?: string;
}

const SOURCE_TABLE: SnapshotTable = { ...TELEMETRY_EVENTS, name: 'bench source', schema: SCHEMA };
const PG_SOURCE = pgSourceOf(env.CLICKHOUSE_TELEMETRY_DATABASE_URL ?? env.TELEMETRY_DATABASE_URL);

async function timedCopy(target: string, check: string): Promise<Outcome> {
  const t0 = now();
  const result = await copyTable(pool, ch, { ...SOURCE_TABLE, target }, PG_SOURCE, {
    workers: WORKERS,
    rangePages: RANGE_PAGES,
    stopped: () => (checkStop(), false),
  });
  const ms = now() - t0;
  await verify(check);
  return { ms, rows: result.rows };
}

async function verify(table: string): Promise<void> {
  const [got] = await chRows<Checksum>(CHECKSUM_SQL(table));
  const want = await pgChecksum();
  if (!got || !sameChecksum({ ...got, n: Number(got.n) }, want)) {
    throw new Error(`${table} does not match ${SOURCE}: ${JSON.stringify(got)} vs ${JSON.stringify(want)}`);
  }
}

async function runLimit(): Promise<Outcome> {
  await chCommand(`CREATE TABLE ${CH_DB}.limit_rows AS default.telemetry_events ENGINE = MergeTree ORDER BY id`);
  return timedCopy(`${CH_DB}.limit_rows`, `${CH_DB}.limit_rows`);
}

/** What `npm run snapshot` does, into a copy of default.telemetry_events (same engine and columns). */
async function runOurs(): Promise<Outcome> {
  await chCommand(`CREATE TABLE ${CH_DB}.telemetry_events AS default.telemetry_events`);
  return timedCopy(`${CH_DB}.telemetry_events`, `${CH_DB}.telemetry_events FINAL`);
}

const quote = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

async function runPeer(): Promise<Outcome> {
  const t0 = now();
  await chCommand(
    `CREATE DATABASE ${PEER_DB}
       ENGINE = MaterializedPostgreSQL(${quote(`${pgUrl.hostname}:${pgUrl.port || '5432'}`)}, ${quote(decodeURIComponent(pgUrl.pathname.slice(1)))},
                                       ${quote(decodeURIComponent(pgUrl.username))}, ${quote(decodeURIComponent(pgUrl.password))})
       SETTINGS materialized_postgresql_schema = '${SCHEMA}', materialized_postgresql_tables_list = 'telemetry_events'`,
    { allow_experimental_database_materialized_postgresql: 1 },
  );
  return untilComplete('the peer', `${PEER_DB}.telemetry_events`, t0, 3_600_000);
}

async function runDebezium(): Promise<Outcome> {
  await withAdmin(kafka, env.KAFKA_BROKERS, async (admin) => {
    // Partitioned as production's telemetry topic, for the same consumer parallelism.
    await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 3, replicationFactor: 1 }], waitForLeaders: true });
  });
  // The benchmark's own topic and group: Debezium writes it, ClickHouse reads it.
  revokeAcls = await grantFor(kafka, [
    { principal: 'connect', resource: 'TOPIC', name: TOPIC, operations: ['WRITE', 'DESCRIBE'] },
    { principal: 'clickhouse', resource: 'TOPIC', name: TOPIC, operations: ['READ'] },
    { principal: 'clickhouse', resource: 'GROUP', name: 'bench-snapshot', operations: ['READ'] },
  ]);
  await chCommand(
    `CREATE TABLE ${CH_DB}.dbz_rows AS default.telemetry_events ENGINE = ReplacingMergeTree(_lsn, _is_deleted) ORDER BY id`,
  );
  await chCommand(
    `CREATE TABLE ${CH_DB}.dbz_kafka (message String) ENGINE = Kafka SETTINGS
       kafka_broker_list = ${quote((env.CLICKHOUSE_KAFKA_BROKERS ?? env.KAFKA_BROKERS).join(','))}, kafka_topic_list = ${quote(TOPIC)},
       kafka_group_name = 'bench-snapshot', kafka_format = 'RawBLOB', kafka_num_consumers = 1, kafka_max_block_size = 65536,
       kafka_flush_interval_ms = 50, kafka_poll_timeout_ms = 10, kafka_consumer_reschedule_ms = 25`,
  );
  await chCommand(
    `CREATE MATERIALIZED VIEW ${CH_DB}.dbz_mv TO ${CH_DB}.dbz_rows AS
     WITH JSONExtract(message, 'after', 'Tuple(id Int64, event_uuid UUID, user_id Int32, prosthesis_type String, muscle_group String,
            signal_frequency Int32, signal_duration Int32, signal_amplitude Float64, event_timestamp String, saved_ts String,
            request_id Nullable(String))') AS a,
          JSONExtract(message, 'source', 'Tuple(lsn UInt64, ts_ms Int64)') AS s
     SELECT a.id AS id, a.event_uuid AS event_uuid, a.user_id AS user_id, a.prosthesis_type AS prosthesis_type, a.muscle_group AS muscle_group,
            a.signal_frequency AS signal_frequency, a.signal_duration AS signal_duration, a.signal_amplitude AS signal_amplitude,
            parseDateTime64BestEffort(a.event_timestamp, 6, 'UTC') AS event_timestamp, parseDateTime64BestEffort(a.saved_ts, 6, 'UTC') AS saved_ts,
            a.request_id AS request_id, s.lsn AS _lsn, 0 AS _is_deleted, fromUnixTimestamp64Milli(s.ts_ms, 'UTC') AS _source_ts
     FROM ${CH_DB}.dbz_kafka`,
  );
  const t0 = now();
  // Fresh: without offsets left by an earlier run, which would make it skip the snapshot.
  await connect.createFresh(CONNECTOR, {
    'connector.class': 'io.debezium.connector.postgresql.PostgresConnector',
    'tasks.max': '1',
    'plugin.name': 'pgoutput',
    'database.hostname': pgUrl.hostname,
    'database.port': pgUrl.port || '5432',
    'database.user': decodeURIComponent(pgUrl.username),
    'database.password': decodeURIComponent(pgUrl.password),
    'database.dbname': decodeURIComponent(pgUrl.pathname.slice(1)),
    'topic.prefix': TOPIC_PREFIX,
    'table.include.list': SOURCE,
    'publication.name': SLOT,
    'publication.autocreate.mode': 'filtered',
    'slot.name': SLOT,
    'snapshot.mode': 'initial',
    // Production's batching (connectors/telemetry-connector.json), a larger fetch for the snapshot.
    'snapshot.fetch.size': '20000',
    'poll.interval.ms': '25',
    'max.batch.size': '4096',
    'max.queue.size': '16384',
    'time.precision.mode': 'adaptive',
    'key.converter': 'org.apache.kafka.connect.json.JsonConverter',
    'key.converter.schemas.enable': 'false',
    'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
    'value.converter.schemas.enable': 'false',
  });
  return untilComplete('Debezium', `${CH_DB}.dbz_rows`, t0, DEBEZIUM_TIMEOUT_MS);
}

/** Polls the path's table until it holds every row (then checks the sums); a timeout gives a partial figure. */
async function untilComplete(name: string, table: string, t0: number, timeoutMs: number): Promise<Outcome> {
  let lastSaid = now();
  let n = 0;
  try {
    await until(`${name} to hold ${fmt(ROWS)} rows`, timeoutMs, POLL_MS, async () => {
      try {
        n = Number((await chRows<{ n: number }>(`SELECT count() AS n FROM ${table}`))[0]?.n ?? 0);
      } catch {
        return undefined; // the peer creates its table during the sync
      }
      if (now() - lastSaid > 10_000) {
        lastSaid = now();
        say(`  … ${name}: ${fmt(n)} rows after ${secs(now() - t0)}`);
      }
      return n >= ROWS ? true : undefined;
    });
  } catch (err) {
    if (!/timed out/.test((err as Error).message)) throw err;
    return { ms: now() - t0, rows: n, partial: `timed out after ${secs(timeoutMs)} with ${fmt(n)} rows` };
  }
  const ms = now() - t0;
  await verify(`${table} FINAL`);
  return { ms, rows: n };
}

// ---------------------------------------------------------------- clean-up

async function dropPaths(): Promise<void> {
  await connect.deleteWithOffsets(CONNECTOR);
  // The slot stays active until the deleted connector's task has stopped.
  await until(`slot ${SLOT} to be released`, 60_000, 500, async () => {
    const { rows } = await pool.query('SELECT active FROM pg_replication_slots WHERE slot_name = $1', [SLOT]);
    if (rows.length === 0) return true;
    if (rows[0].active) return undefined;
    await pool.query('SELECT pg_drop_replication_slot($1)', [SLOT]);
    return true;
  });
  await pool.query(`DROP PUBLICATION IF EXISTS ${SLOT}`);
  await chCommand(`DROP DATABASE IF EXISTS ${PEER_DB} SYNC`);
  await chCommand(`DROP DATABASE IF EXISTS ${CH_DB} SYNC`);
  await withAdmin(kafka, env.KAFKA_BROKERS, async (admin) => {
    if ((await admin.listTopics()).includes(TOPIC)) await admin.deleteTopics({ topics: [TOPIC] });
  });
  await revokeAcls?.();
  revokeAcls = undefined;
}

// ---------------------------------------------------------------- main

const RUNNERS: Record<PathId, { name: string; run: () => Promise<Outcome> }> = {
  limit: { name: 'COPY straight into ClickHouse (the limit)', run: runLimit },
  ours: { name: 'npm run snapshot (ours)', run: runOurs },
  peer: { name: 'ClickHouse MaterializedPostgreSQL (the peer)', run: runPeer },
  debezium: { name: "Debezium's initial snapshot → Kafka → ClickHouse", run: runDebezium },
};

async function main(): Promise<void> {
  const startedAt = new Date().toISOString();
  await dropPaths();
  const fill = await fillSource();
  // Rounds of the quick paths, each round in another order (no path always goes first
  // on a warmer or colder machine); the median round counts. Debezium's, many minutes
  // long, runs once, last.
  const runs = new Map<PathId, Outcome[]>();
  const quick = PATHS.filter((id) => id !== 'debezium');
  const order = [...Array.from({ length: REPEAT }, (_, r) => quick.map((_, i) => quick[(i + r) % quick.length]!)).flat(), ...PATHS.filter((id) => id === 'debezium')];
  for (const id of order) {
    checkStop();
    await chCommand(`CREATE DATABASE IF NOT EXISTS ${CH_DB}`);
    say(`${RUNNERS[id].name} …`);
    const o = await RUNNERS[id].run();
    runs.set(id, [...(runs.get(id) ?? []), o]);
    say(`  ${fmt(o.rows)} rows in ${secs(o.ms)}: ${fmt(o.rows / (o.ms / 1000))} rows/s${o.partial ? ` (${o.partial})` : ''}`);
    await dropPaths();
  }
  const rateOf = (o: Outcome) => o.rows / (o.ms / 1000);
  const outcomes = new Map<PathId, Outcome>(
    [...runs].map(([id, os]) => [id, [...os].sort((a, b) => rateOf(a) - rateOf(b))[Math.floor((os.length - 1) / 2)]!]),
  );
  const spread = (id: PathId) => {
    const rates = (runs.get(id) ?? []).map(rateOf).sort((a, b) => a - b);
    return rates.length > 1 ? ` (${rates.map((r) => fmt(r)).join(' / ')})` : '';
  };

  const rate = (id: PathId) => {
    const o = outcomes.get(id);
    return o ? rateOf(o) : undefined;
  };
  const ratio = (a: number | undefined, b: number | undefined) => (a !== undefined && b !== undefined ? fmt(a / b, 2) : '–');
  const lines = [
    `Initial snapshot of ${fmt(ROWS)} rows (${SOURCE}), each path alone on the stack, ${WORKERS} ranges at a time of ${fmt(RANGE_PAGES)} heap pages for limit and ours; ` +
      `${REPEAT} round(s) of the quick paths in rotating order, the median shown (every round in brackets, slowest first).`,
    `Date: ${startedAt}. Machine: ${machineDescription()}. Source filled in ${fill.reused ? '(reused)' : secs(fill.seconds * 1000)}.`,
    '',
    '| path | rows | seconds | rows/s | ratio to the peer | ratio to the limit |',
    '|---|---|---|---|---|---|',
    ...PATHS.map((id) => {
      const o = outcomes.get(id)!;
      return `| ${RUNNERS[id].name} | ${fmt(o.rows)} | ${fmt(o.ms / 1000, 1)} | **${fmt(rate(id)!)}**${spread(id)}${o.partial ? ` (${o.partial})` : ''} | ${ratio(rate(id), rate('peer'))} | ${ratio(rate(id), rate('limit'))} |`;
    }),
    '',
    `Load average at the end: ${loadAverage()}.`,
  ];
  console.log(lines.join('\n'));

  if (args.json === undefined) return;
  const ours = rate('ours');
  const metrics: Metric[] = [
    {
      id: 'snapshot.rows_per_s',
      label: `initial snapshot of ${fmt(ROWS)} rows`,
      unit: 'rows/s',
      better: 'higher',
      values: { ours: figure(ours), peer: figure(rate('peer')), limit: figure(rate('limit')) },
      ...(ours !== undefined && rate('peer') !== undefined && rate('limit') !== undefined
        ? { goal: { text: "≥ the peer's rows/s and ≥ 0.5× the limit", met: ours >= rate('peer')! && ours >= 0.5 * rate('limit')! } }
        : {}),
    },
  ];
  if (rate('debezium') !== undefined) {
    metrics.push({
      id: 'snapshot.debezium_rows_per_s',
      label: "Debezium's own initial snapshot",
      unit: 'rows/s',
      better: 'higher',
      values: { ours: figure(rate('debezium')), peer: figure(rate('peer')), limit: figure(rate('limit')) },
      paths: { ours: "Debezium's snapshot → Kafka → ClickHouse" },
    });
  }
  writeResult(args.json, {
    bench: 'snapshot',
    startedAt,
    finishedAt: new Date().toISOString(),
    machine: machineDescription(),
    command: commandLine('snapshot'),
    paths: { ours: RUNNERS.ours.name, peer: RUNNERS.peer.name, limit: RUNNERS.limit.name },
    settings: { rows: ROWS, workers: WORKERS, rangePages: RANGE_PAGES, repeat: REPEAT, paths: PATHS.join(','), debeziumTimeoutS: DEBEZIUM_TIMEOUT_MS / 1000 },
    metrics,
    notes: [`load average at the end ${loadAverage()}`, ...[...outcomes].filter(([, o]) => o.partial).map(([id, o]) => `${id}: ${o.partial}`)],
  });
  say(`figures written to ${args.json}`);
}

await runBench(
  main,
  [
    { name: 'drop the paths', run: dropPaths },
    { name: 'drop the source', run: async () => void (args['keep-source'] ? undefined : await pool.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`)) },
  ],
  () => Promise.all([pool.end(), ch.close()]),
);
