import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClickHouseLogLevel, createClient } from '@clickhouse/client';
import { loadDotEnv, loadEndpoints } from '@cdc/config';
import { loadMigrations, splitStatements } from '../lib/clickhouse-migrations.js';
import { loadCookbook, rewriteDatabases } from '@cdc/clickhouse';
import { runReadOnlyQuery } from '@cdc/clickhouse';

/**
 * Every cookbook query on hand-made data with hand-computed answers, in a scratch
 * database of its own: the product tables are compared row by row with PostgreSQL
 * by other tests and are never written here. The scratch tables are created from the
 * product DDL (clickhouse/*.sql) with the database names rewritten, so the queries
 * run against the real column types and engines (ReplacingMergeTree FINAL, Join, views).
 */
loadDotEnv();
const env = loadEndpoints();
const ch = createClient({
  url: env.CLICKHOUSE_URL,
  username: env.CLICKHOUSE_USER,
  password: env.CLICKHOUSE_PASSWORD,
  log: { level: ClickHouseLogLevel.OFF },
});
const DB = `cookbook_${randomBytes(4).toString('hex')}`;
const TO_SCRATCH = { default: DB, debezium: DB, analytics: DB };
const TABLES = [
  'default.users',
  'default.telemetry_events',
  'debezium.users_join',
  'debezium.telemetry_events_merge',
  'debezium.kafka_errors',
  'debezium.freshness',
  'analytics.telemetry_enriched',
  'analytics.telemetry_by_minute',
  'analytics.user_activity',
  'analytics.telemetry_by_minute_v',
];

// ---- time: everything relative to one "now", whole seconds, so the windows of the queries are far from the data ----
const NOW = Math.floor(Date.now() / 1000) * 1000;
const SEC = 1000;
const MIN = 60 * SEC;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const iso = (ms: number) => new Date(ms).toISOString();
/** DateTime64(6) as ClickHouse prints it. */
const ts6 = (ms: number) => `${iso(ms).slice(0, 19).replace('T', ' ')}.${iso(ms).slice(20, 23)}000`;
const ts3 = (ms: number) => `${iso(ms).slice(0, 19).replace('T', ' ')}.${iso(ms).slice(20, 23)}`;
const ts0 = (ms: number) => iso(ms).slice(0, 19).replace('T', ' ');
const day = (ms: number) => iso(ms).slice(0, 10);
const startOfHour = (ms: number) => Math.floor(ms / HOUR) * HOUR;
const startOfMinute = (ms: number) => Math.floor(ms / MIN) * MIN;
const startOfDay = (ms: number) => Math.floor(ms / DAY) * DAY;

async function insert(table: string, values: Record<string, unknown>[]): Promise<void> {
  await ch.insert({ table: `${DB}.${table}`, values, format: 'JSONEachRow' });
}

// ---- the known data ----
// users: 1 Ann (moved PL → DE: a superseded version), 2 Bob, 3 Cid (deleted), 4 Dee (no country,
// no telemetry), 5 Eve (only a deleted event). User 99 never existed.
const user = (id: number, name: string, country: string | null, age: number | null, lsn: number, deleted = 0, ingestedAgo = HOUR, lag = SEC) => ({
  id,
  user_uuid: randomUUID(),
  name,
  email: `${name.toLowerCase()}@example.com`,
  age,
  gender: null,
  country,
  address: null,
  phone: null,
  registered_at: ts6(NOW - 30 * DAY),
  _lsn: lsn,
  _is_deleted: deleted,
  _source_ts: ts3(NOW - ingestedAgo - lag),
  _ingested_at: ts3(NOW - ingestedAgo),
});
const USERS = [
  user(1, 'Ann', 'PL', 35, 10),
  user(1, 'Ann', 'DE', 35, 20),
  user(2, 'Bob', 'UA', 45, 11),
  user(3, 'Cid', 'PL', 25, 12),
  user(3, 'Cid', 'PL', 25, 30, 1),
  // The only users changes of the last 5 minutes, for the freshness view: lags 1 s and 3 s.
  user(4, 'Dee', null, null, 13, 0, 20 * SEC, 1 * SEC),
  user(5, 'Eve', 'DE', 61, 14, 0, 20 * SEC, 3 * SEC),
];

const event = (id: number, userId: number, ago: number, lsn: number, deleted = 0, amplitude = 1) => ({
  id,
  event_uuid: randomUUID(),
  user_id: userId,
  prosthesis_type: 'bionic_arm',
  muscle_group: 'biceps',
  signal_frequency: 100,
  signal_duration: 10,
  signal_amplitude: amplitude,
  event_timestamp: ts6(NOW - ago),
  saved_ts: ts6(NOW - ago),
  _lsn: lsn,
  _is_deleted: deleted,
  _source_ts: ts3(NOW - HOUR),
  _ingested_at: ts3(NOW - HOUR),
});
const EVENTS = [
  event(1, 1, 5 * HOUR, 100), // superseded by the next row: the update moved it to 1 h ago
  event(1, 1, 1 * HOUR, 150),
  event(2, 1, 3 * DAY, 101),
  event(3, 2, 3 * HOUR, 102),
  event(4, 3, 4 * HOUR, 103), // of deleted user 3
  event(5, 99, 5 * HOUR, 104), // of never-seen user 99
  event(6, 99, 30 * HOUR, 105),
  event(7, 2, 1 * HOUR, 106),
  event(7, 2, 1 * HOUR, 200, 1), // deleted
  event(8, 5, 2 * HOUR, 107),
  event(8, 5, 2 * HOUR, 210, 1), // deleted: Eve has no live telemetry
  event(9, 2, 20 * DAY, 108),
  event(10, 2, 21 * DAY, 109),
];

// The users Join table: one write per change, the last one wins; a delete leaves an empty entry.
const joinEntry = (id: number, country: string | null, lsn: number, deleted = 0) => ({
  id,
  user_uuid: randomUUID(),
  name: deleted ? '' : `user ${id}`,
  email: '',
  age: null,
  gender: null,
  country,
  address: null,
  phone: null,
  registered_at: ts6(NOW - 30 * DAY),
  _lsn: lsn,
  _is_deleted: deleted,
});

// The change log: two minutes inside the last 5 minutes, one change 2 h ago, and a redelivered change.
const M1 = startOfMinute(NOW) - 2 * MIN;
const M2 = startOfMinute(NOW) - 1 * MIN;
const change = (op: string, id: number, lsn: number, ingestedAt: number) => ({
  ...event(id, 1, HOUR, lsn),
  op,
  _kafka_partition: 0,
  _kafka_offset: lsn,
  _source_ts: ts3(ingestedAt - 2 * SEC),
  _ingested_at: ts3(ingestedAt),
});

const kafkaError = (topic: string, partition: number, offset: number, error: string, ago: number) => ({
  received_at: ts3(NOW - ago),
  topic,
  partition,
  offset,
  kafka_key: '',
  error,
  raw_message: 'x',
});

const enriched = (
  n: number,
  userId: number,
  country: string | null,
  ageBand: string | null,
  type: string,
  muscle: string,
  amplitude: number,
  ago: number,
  version = 2,
  deleted = 0,
) => ({
  event_uuid: `00000000-0000-0000-0000-${String(n).padStart(12, '0')}`,
  id: n,
  user_id: userId,
  prosthesis_type: type,
  muscle_group: muscle,
  signal_frequency: 100,
  signal_duration: 10,
  signal_amplitude: amplitude,
  event_timestamp: ts6(NOW - ago),
  user_known: country === null && ageBand === null ? 0 : 1,
  country,
  gender: null,
  age_band: ageBand,
  _lsn: n,
  _version: version,
  _is_deleted: deleted,
  _source_ts: ts3(NOW - ago),
});
const ENRICHED = [
  enriched(1, 1, null, null, 'bionic_arm', 'biceps', 10, 2 * HOUR, 1), // first, user-less version
  enriched(1, 1, 'DE', '30-39', 'bionic_arm', 'biceps', 10, 2 * HOUR, 2), // re-enriched: wins
  enriched(2, 2, 'UA', '40-49', 'bionic_arm', 'biceps', 12, 3 * HOUR),
  enriched(3, 1, 'DE', '30-39', 'bionic_arm', 'biceps', 5, 3 * DAY),
  enriched(4, 2, 'UA', '40-49', 'bionic_arm', 'biceps', 5, 4 * DAY),
  enriched(5, 99, null, null, 'hybrid_elbow', 'deltoid', 2, 2 * DAY),
  enriched(6, 2, 'UA', '40-49', 'hybrid_elbow', 'deltoid', 3, 10 * DAY),
  enriched(7, 1, 'DE', '30-39', 'hybrid_elbow', 'deltoid', 4, 1 * HOUR, 2),
  enriched(7, 1, 'DE', '30-39', 'hybrid_elbow', 'deltoid', 4, 1 * HOUR, 3, 1), // deleted
  enriched(8, 3, 'PL', '20-29', 'hybrid_elbow', 'deltoid', 2.2, 5 * HOUR),
];

// Per-minute aggregates, each with the amplitudes it summarizes (the state is built from them).
interface MinuteRow {
  minute: number;
  type: string;
  muscle: string;
  values: number[];
  computedAt: number;
  deleted?: 1;
}
const D3 = startOfDay(NOW) - 3 * DAY + 10 * HOUR;
const D4 = startOfDay(NOW) - 4 * DAY + 10 * HOUR;
const H = startOfHour(NOW) - 3 * HOUR;
const MINUTES: MinuteRow[] = [
  { minute: D3, type: 'bionic_arm', muscle: 'biceps', values: [100], computedAt: 1 }, // superseded
  { minute: D3, type: 'bionic_arm', muscle: 'biceps', values: [1, 2, 3], computedAt: 2 },
  { minute: D3 + MIN, type: 'bionic_arm', muscle: 'biceps', values: [4, 5], computedAt: 2 },
  { minute: D3, type: 'hybrid_elbow', muscle: 'biceps', values: [10], computedAt: 2 },
  { minute: D4, type: 'bionic_arm', muscle: 'deltoid', values: [7, 8, 9], computedAt: 2 },
  { minute: D4 + HOUR, type: 'bionic_arm', muscle: 'biceps', values: [50], computedAt: 1 },
  { minute: D4 + HOUR, type: 'bionic_arm', muscle: 'biceps', values: [50], computedAt: 2, deleted: 1 }, // key emptied
  { minute: startOfDay(NOW) - 40 * DAY, type: 'bionic_arm', muscle: 'biceps', values: [1], computedAt: 2 }, // too old
  { minute: H + 5 * MIN, type: 'bionic_arm', muscle: 'biceps', values: [100, 200], computedAt: 1 }, // superseded
  { minute: H + 5 * MIN, type: 'bionic_arm', muscle: 'biceps', values: [2, 4], computedAt: 2 },
  { minute: H + 30 * MIN, type: 'bionic_arm', muscle: 'deltoid', values: [6], computedAt: 2 },
  { minute: H + HOUR + MIN, type: 'hybrid_elbow', muscle: 'deltoid', values: [1, 3], computedAt: 2 },
];

async function insertMinute(r: MinuteRow): Promise<void> {
  const values = `[${r.values.map((v) => v.toFixed(1)).join(', ')}]`;
  await ch.command({
    query: `INSERT INTO ${DB}.telemetry_by_minute
      SELECT toDateTime('${ts0(r.minute)}', 'UTC'), '${r.type}', '${r.muscle}', count(), avg(v), max(v),
             quantilesExactState(0.5, 0.95)(v), toDateTime64(${r.computedAt}, 6, 'UTC'), ${r.deleted ?? 0}
      FROM (SELECT arrayJoin(${values}) AS v)`,
  });
}

const activity = (userId: number, events: number, lastAgo: number, amplitude: number, computedAt: number, deleted = 0) => ({
  user_id: userId,
  events,
  first_event_at: ts6(NOW - 20 * DAY),
  last_event_at: ts6(NOW - lastAgo),
  last_amplitude: amplitude,
  _computed_at: ts6(computedAt * SEC),
  _is_deleted: deleted,
});

beforeAll(async () => {
  await ch.command({ query: `CREATE DATABASE ${DB}` });
  const ddl = loadMigrations()
    .flatMap((m) => splitStatements(m.sql))
    .filter((s) => {
      const m = /CREATE\s+(?:TABLE|VIEW)\s+IF\s+NOT\s+EXISTS\s+(\w+\.\w+)/i.exec(s);
      return m !== null && TABLES.includes(m[1]!);
    });
  expect(ddl).toHaveLength(TABLES.length);
  for (const statement of ddl) await ch.command({ query: rewriteDatabases(statement, TO_SCRATCH) });

  await insert('users', USERS);
  await insert('telemetry_events', EVENTS);
  // Separate inserts: the Join table keeps the last write of an id.
  for (const entries of [
    [joinEntry(1, 'PL', 10), joinEntry(2, 'UA', 11), joinEntry(3, 'PL', 12), joinEntry(4, null, 13), joinEntry(5, 'DE', 14)],
    [joinEntry(1, 'DE', 20), joinEntry(3, null, 30, 1)],
  ]) {
    await insert('users_join', entries);
  }
  // The redelivery goes first, with an old ingestion time: FINAL keeps the later insert of (id, _lsn).
  await insert('telemetry_events_merge', [change('c', 11, 301, NOW - 3 * HOUR)]);
  await insert('telemetry_events_merge', [
    change('c', 11, 301, M1 + 10 * SEC),
    change('c', 12, 302, M1 + 11 * SEC),
    change('r', 13, 303, M1 + 12 * SEC),
    change('u', 11, 304, M1 + 13 * SEC),
    change('d', 12, 305, M2 + 10 * SEC),
    change('c', 14, 306, NOW - 2 * HOUR),
  ]);
  await insert('kafka_errors', [
    kafkaError('crm.public.users', 0, 5, 'no after.id', HOUR),
    kafkaError('crm.public.users', 1, 7, 'no after.id', 2 * HOUR),
    kafkaError('telemetry.public.telemetry_events', 0, 9, 'not JSON', 3 * HOUR),
    kafkaError('telemetry.public.telemetry_events', 0, 1, 'not JSON', 2 * DAY),
  ]);
  await insert('telemetry_enriched', ENRICHED);
  for (const r of MINUTES) await insertMinute(r);
  await insert('user_activity', [
    activity(1, 3, 5 * HOUR, 1.5, 1), // superseded
    activity(1, 5, 1 * HOUR, 4.5, 2),
    activity(2, 7, 3 * HOUR, 12, 2),
    activity(3, 9, 4 * HOUR, 2.2, 1),
    activity(3, 9, 4 * HOUR, 2.2, 2, 1), // deleted
    activity(4, 7, 6 * HOUR, 3, 2),
    activity(99, 2, 5 * HOUR, 2, 2),
  ]);
});

afterAll(async () => {
  await ch.command({ query: `DROP DATABASE IF EXISTS ${DB} SYNC` });
  await ch.close();
});

/** Runs a cookbook query on the scratch database, through the read-only runner, as plain objects (64-bit integers as numbers). */
async function recipe(numberPrefix: string): Promise<Record<string, unknown>[]> {
  const r = loadCookbook().find((x) => x.number === numberPrefix);
  if (!r) throw new Error(`no cookbook query ${numberPrefix}`);
  const result = await runReadOnlyQuery(ch, rewriteDatabases(r.sql, TO_SCRATCH), { maxRows: 1000, timeoutS: 30 });
  expect(result.truncated).toBe(false);
  return result.rows.map((row) =>
    Object.fromEntries(
      result.columns.map((c, i) => [c.name, /Int64/.test(c.type) && typeof row[i] === 'string' ? Number(row[i]) : row[i]]),
    ),
  );
}

/** quantileExact as ClickHouse computes it: the element at floor(level * n) of the sorted values. */
function quantileExact(values: number[], level: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(Math.floor(level * sorted.length), sorted.length - 1)]!;
}

describe('analytics cookbook on known data', () => {
  it('01 amplitude p50/p95 per muscle group and day', async () => {
    // Live, latest versions within 30 days, grouped by (day, muscle group) by hand:
    const groups = new Map<string, number[]>();
    const add = (minute: number, muscle: string, values: number[]) => {
      const key = `${day(minute)}|${muscle}`;
      groups.set(key, [...(groups.get(key) ?? []), ...values]);
    };
    add(D4, 'deltoid', [7, 8, 9]);
    add(D3, 'biceps', [1, 2, 3, 4, 5, 10]); // p50 = 4, p95 = 10
    add(H + 5 * MIN, 'biceps', [2, 4]);
    add(H + 30 * MIN, 'deltoid', [6]);
    add(H + HOUR + MIN, 'deltoid', [1, 3]);
    const expected = [...groups]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([key, values]) => ({
        day: key.split('|')[0],
        muscle_group: key.split('|')[1],
        events: values.length,
        p50_amplitude: quantileExact(values, 0.5),
        p95_amplitude: quantileExact(values, 0.95),
      }));
    expect(expected[0]).toEqual({ day: day(D4), muscle_group: 'deltoid', events: 3, p50_amplitude: 8, p95_amplitude: 9 });
    expect(expected[1]).toEqual({ day: day(D3), muscle_group: 'biceps', events: 6, p50_amplitude: 4, p95_amplitude: 10 });
    expect(await recipe('01')).toEqual(expected);
  });

  it('02 active users by country, last 7 days', async () => {
    expect(await recipe('02')).toEqual([
      { country: '(unknown)', active_users: 1, events: 1 },
      { country: 'DE', active_users: 1, events: 2 },
      { country: 'PL', active_users: 1, events: 1 },
      { country: 'UA', active_users: 1, events: 2 },
    ]);
  });

  it('03 live users without live telemetry', async () => {
    // No name: the recipes read no contact column.
    expect((await recipe('03')).map((r) => [r.id, r.country, 'name' in r])).toEqual([
      [4, null, false],
      [5, 'DE', false],
    ]);
  });

  it('04 amplitude drift: last day against the 7 days before', async () => {
    expect(await recipe('04')).toEqual([
      // (10 + 12) / 2 = 11 against (5 + 5) / 2 = 5: +120 %
      { prosthesis_type: 'bionic_arm', muscle_group: 'biceps', events_last_day: 2, events_prev_7d: 2, avg_last_day: 11, avg_prev_7d: 5, drift_pct: 120 },
      // 2.2 against 2: +10 % (the deleted event of 1 h ago and the one 10 days ago do not count)
      { prosthesis_type: 'hybrid_elbow', muscle_group: 'deltoid', events_last_day: 1, events_prev_7d: 1, avg_last_day: 2.2, avg_prev_7d: 2, drift_pct: 10 },
    ]);
  });

  it('05 events per prosthesis type per hour, last 24 hours', async () => {
    expect(await recipe('05')).toEqual([
      // [2, 4] and [6]: 3 events, mean 4
      { hour: ts0(H), prosthesis_type: 'bionic_arm', hour_events: 3, avg_amplitude: 4 },
      { hour: ts0(H + HOUR), prosthesis_type: 'hybrid_elbow', hour_events: 2, avg_amplitude: 2 },
    ]);
  });

  it('06 top users by events', async () => {
    expect(await recipe('06')).toEqual([
      { user_id: 2, country: 'UA', events: 7, last_event_at: ts6(NOW - 3 * HOUR), last_amplitude: 12 },
      { user_id: 4, country: null, events: 7, last_event_at: ts6(NOW - 6 * HOUR), last_amplitude: 3 },
      { user_id: 1, country: 'DE', events: 5, last_event_at: ts6(NOW - HOUR), last_amplitude: 4.5 },
      { user_id: 99, country: null, events: 2, last_event_at: ts6(NOW - 5 * HOUR), last_amplitude: 2 },
    ]);
  });

  it('07 events by age band', async () => {
    // 7 live events: 1 unknown, 1 × 20-29, 2 × 30-39, 3 × 40-49
    expect(await recipe('07')).toEqual([
      { age_band: '(unknown)', events: 1, users: 1, pct_of_events: 14.3 },
      { age_band: '20-29', events: 1, users: 1, pct_of_events: 14.3 },
      { age_band: '30-39', events: 2, users: 1, pct_of_events: 28.6 },
      { age_band: '40-49', events: 3, users: 1, pct_of_events: 42.9 },
    ]);
  });

  it('08 pipeline freshness', async () => {
    const rows = await recipe('08');
    expect(rows.map((r) => r.source_table)).toEqual(['telemetry_events', 'users']);
    const [telemetry, users] = rows as [Record<string, number | string>, Record<string, number | string>];
    // 5 changes in the last 5 minutes, each 2 s behind; the redelivery 3 h ago is out of the window.
    expect(telemetry).toMatchObject({ changes_5m: 5, lag_p50_s: 2, lag_p99_s: 2, lag_max_s: 2, last_commit_at: ts3(M2 + 8 * SEC) });
    // Dee and Eve 20 s ago, lags 1 s and 3 s: median 2, p99 interpolated 1 + 0.99 × 2.
    expect(users).toMatchObject({ changes_5m: 2, lag_p50_s: 2, lag_max_s: 3, last_commit_at: ts3(NOW - 21 * SEC) });
    expect(users.lag_p99_s as number).toBeCloseTo(2.98, 6);
    expect(users.seconds_since_last_change as number).toBeGreaterThanOrEqual(20);
    expect(users.seconds_since_last_change as number).toBeLessThan(300);
  });

  it('09 Kafka errors of the last 24 hours', async () => {
    expect(await recipe('09')).toEqual([
      { topic: 'crm.public.users', error: 'no after.id', messages: 2, first_seen: ts3(NOW - 2 * HOUR), last_seen: ts3(NOW - HOUR), sample_partition_offsets: ['0:5', '1:7'] },
      { topic: 'telemetry.public.telemetry_events', error: 'not JSON', messages: 1, first_seen: ts3(NOW - 3 * HOUR), last_seen: ts3(NOW - 3 * HOUR), sample_partition_offsets: ['0:9'] },
    ]);
  });

  it('10 deleted against live users', async () => {
    expect(await recipe('10')).toEqual([{ live_users: 4, deleted_users: 1, users_ever_seen: 5 }]);
  });

  it('11 events of unknown users', async () => {
    expect(await recipe('11')).toEqual([
      { user_id: 99, user_status: 'never seen', events: 2, first_event_at: ts6(NOW - 30 * HOUR), last_event_at: ts6(NOW - 5 * HOUR) },
      { user_id: 3, user_status: 'deleted', events: 1, first_event_at: ts6(NOW - 4 * HOUR), last_event_at: ts6(NOW - 4 * HOUR) },
    ]);
  });

  it('12 CDC throughput per minute, last hour', async () => {
    expect(await recipe('12')).toEqual([
      { minute: ts0(M1), changes: 4, inserts: 3, updates: 1, deletes: 0 },
      { minute: ts0(M2), changes: 1, inserts: 0, updates: 0, deletes: 1 },
    ]);
  });

  it('13 events of the last 24 hours by current country (joinGet)', async () => {
    // Events 1 (Ann, now DE), 3 (Bob, UA), 4 (Cid: deleted entry) and 5 (user 99: no entry).
    expect(await recipe('13')).toEqual([
      { country: '(unknown)', events: 2, users: 2 },
      { country: 'DE', events: 1, users: 1 },
      { country: 'UA', events: 1, users: 1 },
    ]);
  });

  it('14 stream processor reconciliation', async () => {
    // Live source events 1–6, 9, 10; enriched 1–6, 8 (5 is of a user unknown then).
    expect(await recipe('14')).toEqual([{ source_events: 8, enriched_events: 7, enriched_without_user: 1, missing_from_analytics: 1 }]);
  });

  it('covers every cookbook query', () => {
    expect(loadCookbook().map((r) => r.number)).toEqual(['01', '02', '03', '04', '05', '06', '07', '08', '09', '10', '11', '12', '13', '14']);
  });
});

// ---- the CLI, as a child process ----
const exec = promisify(execFile);
async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec('node', ['--import', 'tsx', 'scripts/sql/cli.ts', ...args], { cwd: process.cwd() });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('sql CLI', () => {
  it('prints a SELECT as a table, and as JSON', async () => {
    // The analyst reads only what its grants allow (clickhouse/users.yaml): not this
    // test's own database, so the rows come from a table function it may use.
    const names = "['Ann', 'Bob', 'Dee', 'Eve']";
    const table = await cli(`SELECT number + 1 AS id, ${names}[number + 1] AS name FROM numbers(4) ORDER BY id`);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toBe(['id  name', '--  ----', ' 1  Ann', ' 2  Bob', ' 3  Dee', ' 4  Eve', ''].join('\n'));
    expect(table.stderr).toMatch(/^4 rows in \d+ ms\n$/);
    const json = await cli('-- a comment first\nSELECT number AS id FROM numbers(4) ORDER BY id', '--format', 'json');
    expect(JSON.parse(json.stdout)).toEqual([{ id: 0 }, { id: 1 }, { id: 2 }, { id: 3 }]);
    // A table it may not read is refused, naming the grant it lacks.
    const denied = await cli(`SELECT id FROM ${DB}.users`);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toMatch(/ClickHouse error 497: .*Not enough privileges/);
  });

  it('refuses INSERT and CREATE (readonly=1), and nothing is written', async () => {
    const ins = await cli(`INSERT INTO ${DB}.kafka_errors (topic, error) VALUES ('t', 'e')`);
    expect(ins.code).toBe(1);
    // 164 from readonly, or 497 from the grants (chdb-server checks those first): refused either way.
    expect(ins.stderr).toMatch(/ClickHouse error (164: .*Cannot execute query in readonly mode|497: )/);
    const create = await cli(`CREATE TABLE ${DB}.nope (a UInt8) ENGINE = Memory`);
    expect(create.code).toBe(1);
    expect(create.stderr).toMatch(/readonly mode|ClickHouse error 497: /);
    const counts = await (await ch.query({ query: `SELECT (SELECT count() FROM ${DB}.kafka_errors) AS errors, (SELECT count() FROM system.tables WHERE database = '${DB}' AND name = 'nope') AS nope`, format: 'JSONEachRow' })).json<{ errors: string | number; nope: string | number }>();
    expect(counts.map((c) => [Number(c.errors), Number(c.nope)])).toEqual([[4, 0]]);
    const settings = await cli('SELECT 1 SETTINGS max_result_rows = 1000000');
    expect(settings.code).toBe(1);
    expect(settings.stderr).toMatch(/Cannot modify 'max_result_rows' setting in readonly mode/);
  });

  it('--max-rows cuts the result and says so', async () => {
    const r = await cli('SELECT number FROM numbers(100000)', '--max-rows', '2', '--format', 'csv');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('number\n0\n1\n');
    expect(r.stderr).toMatch(/2 rows in \d+ ms — TRUNCATED: the result has more than 2 rows/);
    const exact = await cli('SELECT number FROM numbers(2)', '--max-rows', '2');
    expect(exact.stderr).not.toMatch(/TRUNCATED/);
  });

  it('a bad query exits 1 with ClickHouse\'s message; a slow one hits --timeout-s', async () => {
    const bad = await cli('SELEC 1');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/ClickHouse error 62: Syntax error/);
    const slow = await cli('SELECT count() FROM numbers(100000000000)', '--timeout-s', '1');
    expect(slow.code).toBe(1);
    expect(slow.stderr).toMatch(/ClickHouse error 159: Timeout exceeded/);
  });

  it('usage errors exit 2', async () => {
    expect((await cli()).code).toBe(2);
    expect((await cli('SELECT 1', '--format', 'xml')).code).toBe(2);
    expect((await cli('SELECT 1', '--max-rows', '0')).code).toBe(2);
    expect((await cli('SELECT 1; SELECT 2')).code).toBe(2);
    expect((await cli("SELECT 1 INTO OUTFILE '/tmp/x.csv'")).code).toBe(2);
  });
});
