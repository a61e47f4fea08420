import { spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel } from 'kafkajs';
import { createKafka, kafkaAccess } from '@cdc/kafka';
import type { ClickHouseClient } from '@clickhouse/client';
import type pg from 'pg';
import { mulberry32 } from '../scripts/import/generator.js';
import { describeDiff, TELEMETRY_EVENTS, USERS, waitForEquality } from '../scripts/lib/cdc-compare.js';
import { sharedTestKey } from './support/api-keys.js';
import { startApp, type RunningApp } from './support/apps.js';
import {
  applyConnector,
  clickhouse,
  connect,
  connector,
  env,
  killAndRestartConnect,
  pools,
  unregister,
  until,
} from './support/cdc.js';
import { seedFrom } from './support/seed.js';

/**
 * The CDC path of the product end to end, against the real native stack: the two
 * APIs (as processes) → PostgreSQL → Debezium (connectors/*.json) → Kafka →
 * ClickHouse Kafka engine → materialized views (clickhouse/*.sql) → current-state
 * tables. Every check compares whole tables: other suites leave rows behind, and
 * those must be exact in ClickHouse too.
 */
/** CDC_TEST_SEED replays a workload (or `random`); the test names print it. */
const SEED = seedFrom('CDC_TEST_SEED', 20_261_206);
const CATCH_UP_MS = 180_000;

let crmApi: RunningApp;
let telemetryApi: RunningApp;
let db: { crm: pg.Pool; telemetry: pg.Pool };
let ch: ClickHouseClient;

beforeAll(async () => {
  db = pools();
  ch = clickhouse();
  [crmApi, telemetryApi] = await Promise.all([startApp('crm-api'), startApp('telemetry-api')]);
  // The stack registers both connectors; a run after an interrupted one finds them anyway.
  await applyConnector(connect, connector('crm-connector'));
  await applyConnector(connect, connector('telemetry-connector'));
}, 180_000);

afterAll(async () => {
  await Promise.allSettled([crmApi?.stop(), telemetryApi?.stop()]);
  await Promise.allSettled([db?.crm.end(), db?.telemetry.end(), ch?.close()]);
});

// ------------------------------------------------------------------ workload

const NAMES = ['Zoë Ünïcode', 'Łukasz Żółć', '李小龍', 'Ольга Петренко', 'Søren 🙂', 'سارا', 'José\u0301 Nuñez', "O'Brien \"Q\""];
const COUNTRIES = ['UA', 'PL', 'DE', 'CN', 'DK', null];
const GENDERS = ['female', 'male', 'non-binary', null];
const PROSTHESES = ['myoelectric_hand', 'bionic_arm', 'body_powered_hook', 'hybrid_elbow'];
const MUSCLES = ['forearm_flexors', 'forearm_extensors', 'biceps', 'triceps', 'deltoid'];

type Rnd = () => number;
const pick = <T>(rnd: Rnd, xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;

function newUser(rnd: Rnd, n: number) {
  return {
    name: `${pick(rnd, NAMES)} ${n}`,
    email: `cdc.user+${pick(rnd, ['work', 'home', 'tag-1', 'a.b'])}-${n}-${randomBytes(4).toString('hex')}@example.com`,
    age: rnd() < 0.2 ? null : Math.floor(rnd() * 100),
    gender: pick(rnd, GENDERS),
    country: pick(rnd, COUNTRIES),
    address: rnd() < 0.3 ? null : `${Math.floor(rnd() * 200)} Вулиця Хрещатик, Київ`,
    phone: rnd() < 0.3 ? null : `+380${Math.floor(rnd() * 1e9)}`,
  };
}

function userPatch(rnd: Rnd, n: number): Record<string, unknown> {
  const all: Record<string, unknown> = {
    name: `${pick(rnd, NAMES)} renamed ${n}`,
    age: rnd() < 0.2 ? null : Math.floor(rnd() * 100),
    country: pick(rnd, COUNTRIES),
    address: rnd() < 0.5 ? null : `${n} Rue de l'Église`,
    phone: rnd() < 0.5 ? null : `+48${Math.floor(rnd() * 1e9)}`,
  };
  const keys = Object.keys(all).filter(() => rnd() < 0.6);
  return Object.fromEntries((keys.length ? keys : ['name']).map((k) => [k, all[k]]));
}

function newEvent(rnd: Rnd, userId: number) {
  const micros = String(Math.floor(rnd() * 1e6)).padStart(6, '0');
  return {
    event_uuid: randomUUID(),
    user_id: userId,
    prosthesis_type: pick(rnd, PROSTHESES),
    muscle_group: pick(rnd, MUSCLES),
    signal_frequency: 100 + Math.floor(rnd() * 2000),
    signal_duration: Math.floor(rnd() * 5000),
    signal_amplitude: rnd() < 0.05 ? 0.1 + 0.2 : rnd() * 10 - 5,
    event_timestamp: `2026-11-${String(1 + Math.floor(rnd() * 24)).padStart(2, '0')}T${String(Math.floor(rnd() * 24)).padStart(2, '0')}:17:42.${micros}Z`,
  };
}

async function call(url: string, method: string, body?: unknown): Promise<Response> {
  const key = await sharedTestKey();
  const res = await fetch(url, {
    method,
    headers: body === undefined ? key.headers : { 'content-type': 'application/json', ...key.headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${url} → ${res.status}: ${await res.text()}`);
  return res;
}

/** Runs `count` jobs with `workers` in parallel. */
async function parallel(count: number, workers: number, job: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (next < count) await job(next++);
    }),
  );
}

interface Tally {
  inserts: number;
  updates: number;
  deletes: number;
}

/**
 * CRM: users created, patched and deleted through the API, interleaved at random.
 * Telemetry: events stored through the API (batches and single POSTs); the API has
 * no update or delete, so those go to telemetry_db in SQL, as an operator's fix
 * would — CDC must carry them all the same.
 */
async function crmWorkload(rnd: Rnd, users: number, tally: Tally, live: number[], onProgress: (done: number) => void): Promise<void> {
  await parallel(users, 6, async (i) => {
    const res = await call(`${crmApi.url}/users`, 'POST', newUser(rnd, i));
    live.push(((await res.json()) as { id: number }).id);
    tally.inserts++;
    // After each insert, sometimes an update and sometimes a delete of a random live user.
    if (rnd() < 0.6 && live.length > 0) {
      const id = pick(rnd, live);
      const patched = await call(`${crmApi.url}/users/${id}`, 'PATCH', userPatch(rnd, i)).then(
        () => true,
        (e: Error) => {
          if (e.message.includes('→ 404')) return false; // deleted meanwhile by another worker
          throw e;
        },
      );
      if (patched) tally.updates++;
    }
    if (rnd() < 0.2 && live.length > 10) {
      const id = live.splice(Math.floor(rnd() * live.length), 1)[0]!;
      await call(`${crmApi.url}/users/${id}`, 'DELETE');
      tally.deletes++;
    }
    onProgress(i);
  });
}

async function telemetryWorkload(rnd: Rnd, batches: number, tally: Tally, userIds: () => number[]): Promise<void> {
  await parallel(batches, 3, async (b) => {
    const ids = userIds();
    const events = Array.from({ length: 200 }, () => newEvent(rnd, ids.length ? pick(rnd, ids) : 1));
    await call(`${telemetryApi.url}/telemetry-events/batch`, 'POST', { events });
    for (let k = 0; k < 10; k++) await call(`${telemetryApi.url}/telemetry-events`, 'POST', newEvent(rnd, pick(rnd, ids.length ? ids : [1])));
    tally.inserts += events.length + 10;
    // Updates and deletes of this batch's own rows, in SQL.
    const mine = events.map((e) => e.event_uuid);
    const updated = await db.telemetry.query(
      `UPDATE telemetry_events SET signal_amplitude = signal_amplitude * 2 + 0.5, muscle_group = $2
        WHERE event_uuid = ANY($1::uuid[])`,
      [mine.slice(0, 50), pick(rnd, MUSCLES)],
    );
    tally.updates += updated.rowCount ?? 0;
    const deleted = await db.telemetry.query('DELETE FROM telemetry_events WHERE event_uuid = ANY($1::uuid[])', [mine.slice(180)]);
    tally.deletes += deleted.rowCount ?? 0;
  });
}

async function expectEqual({ nonEmpty = true } = {}): Promise<void> {
  const [users, events] = await Promise.all([
    waitForEquality(USERS, db.crm, ch, CATCH_UP_MS),
    waitForEquality(TELEMETRY_EVENTS, db.telemetry, ch, CATCH_UP_MS),
  ]);
  console.log(`[cdc] ${describeDiff(users)}\n[cdc] ${describeDiff(events)}`);
  for (const d of [users, events]) {
    expect({ table: d.table, missing: d.missing.length, extra: d.extra.length, different: d.different.length }, describeDiff(d)).toEqual({
      table: d.table,
      missing: 0,
      extra: 0,
      different: 0,
    });
    if (nonEmpty) expect(d.postgresRows).toBeGreaterThan(0);
  }
}

// ------------------------------------------------------------------ tests

describe('CDC: PostgreSQL → Debezium → Kafka → ClickHouse current state', () => {
  it('rows written before a connector is registered arrive through its snapshot', async () => {
    const crm = connector('crm-connector');
    const telemetry = connector('telemetry-connector');
    // First let the pipeline catch up with what earlier suites wrote: dropping a slot
    // loses the changes it has not streamed yet, and a snapshot never reports the
    // deletes among them (KAFKA_DEBEZIUM_SETUP.md, "Limits").
    await expectEqual({ nonEmpty: false });
    await unregister(crm, db.crm);
    await unregister(telemetry, db.telemetry);

    const rnd = mulberry32(SEED);
    const emails: string[] = [];
    for (let i = 0; i < 20; i++) {
      const u = newUser(rnd, i);
      emails.push(u.email);
      await call(`${crmApi.url}/users`, 'POST', u);
    }
    const events = Array.from({ length: 100 }, () => newEvent(rnd, 1));
    await call(`${telemetryApi.url}/telemetry-events/batch`, 'POST', { events });

    await applyConnector(connect, crm);
    await applyConnector(connect, telemetry);
    await expectEqual();

    const rs = await ch.query({
      query: 'SELECT count() AS n FROM default.users FINAL WHERE email IN {emails:Array(String)}',
      query_params: { emails },
      format: 'JSONEachRow',
    });
    expect(Number((await rs.json<{ n: string }>())[0]!.n)).toBe(20);
  }, 300_000);

  it(`a random mixed workload through both APIs, with Kafka Connect killed mid-way, ends exactly equal (seed ${SEED})`, async () => {
    const rnd = mulberry32(SEED + 1);
    const tally: Tally = { inserts: 0, updates: 0, deletes: 0 };
    const live: number[] = [];
    let restart: Promise<{ downMs: number }> | undefined;
    const USERS_TO_CREATE = 1500;

    const crmDone = crmWorkload(rnd, USERS_TO_CREATE, tally, live, (i) => {
      if (i === Math.floor(USERS_TO_CREATE * 0.4)) restart ??= killAndRestartConnect();
    });
    const telemetryDone = telemetryWorkload(rnd, 18, tally, () => live);
    await Promise.all([crmDone, telemetryDone]);
    const { downMs } = await restart!;

    console.log(
      `[cdc] workload: ${tally.inserts} inserts, ${tally.updates} updates, ${tally.deletes} deletes; ` +
        `Kafka Connect killed and back in ${(downMs / 1000).toFixed(1)} s`,
    );
    expect(tally.inserts).toBeGreaterThanOrEqual(5000);
    expect(tally.updates).toBeGreaterThanOrEqual(1000);
    expect(tally.deletes).toBeGreaterThanOrEqual(500);
    await expectEqual();
  }, 600_000);

  it('users_join holds the latest state of every live user and no data of deleted ones', async () => {
    const { rows } = await db.crm.query<{ id: number; email: string; country: string | null }>('SELECT id, email, country FROM users');
    const rs = await ch.query({
      query: 'SELECT id, email, country, _is_deleted FROM debezium.users_join',
      format: 'JSONEachRow',
    });
    const joined = new Map((await rs.json<{ id: number; email: string; country: string | null; _is_deleted: number }>()).map((r) => [r.id, r]));
    for (const u of rows) expect(joined.get(u.id), `user ${u.id}`).toEqual({ ...u, _is_deleted: 0 });
    const liveIds = new Set(rows.map((r) => r.id));
    const stale = [...joined.values()].filter((r) => !liveIds.has(r.id));
    for (const r of stale) expect(r, `deleted user ${r.id}`).toEqual({ id: r.id, email: '', country: null, _is_deleted: 1 });
  });

  it('a poison message ends in debezium.kafka_errors and the messages after it still arrive', async () => {
    const kafka = createKafka({ ...kafkaAccess(env), logLevel: 'silent' }, 'cdc-test');
    const producer = kafka.producer();
    await producer.connect();
    const marker = `poison-${randomUUID()}`;
    // Keys are required: crm.public.users is compacted.
    const [notJson] = await producer.send({ topic: 'crm.public.users', messages: [{ key: '{"id":-1}', value: `${marker} {not json` }] });
    const [notEvent] = await producer.send({
      topic: 'crm.public.users',
      messages: [{ key: '{"id":-2}', value: JSON.stringify({ marker, op: 'c', after: { name: 'no id' } }) }],
    });
    await producer.disconnect();

    const res = await call(`${crmApi.url}/users`, 'POST', newUser(mulberry32(SEED + 2), 0));
    const after = (await res.json()) as { id: number };

    const errors = await until('both poison messages in kafka_errors', async () => {
      const rs = await ch.query({
        query: `SELECT topic, partition, offset, error, raw_message FROM debezium.kafka_errors
                 WHERE position(raw_message, {marker:String}) > 0 ORDER BY offset`,
        query_params: { marker },
        format: 'JSONEachRow',
      });
      const rows = await rs.json<{ topic: string; partition: string; offset: string; error: string; raw_message: string }>();
      return rows.length === 2 ? rows : undefined;
    }, 120_000);
    expect(errors.map((e) => [e.topic, Number(e.partition), Number(e.offset)])).toEqual(
      [notJson!, notEvent!].map((m) => ['crm.public.users', m.partition, Number(m.baseOffset)]).sort((a, b) => Number(a[2]) - Number(b[2])),
    );
    const byRaw = new Map(errors.map((e) => [e.raw_message.startsWith(marker) ? 'notJson' : 'notEvent', e]));
    expect(byRaw.get('notJson')!.error).toMatch(/JSON/);
    expect(byRaw.get('notEvent')!.error).toBe('no after.id');

    await until('the user created after the poison messages', async () => {
      const rs = await ch.query({ query: 'SELECT count() AS n FROM default.users FINAL WHERE id = {id:Int32}', query_params: { id: after.id }, format: 'JSONEachRow' });
      return Number((await rs.json<{ n: string }>())[0]!.n) === 1;
    }, 120_000);
  }, 300_000);

  it('heartbeats move the replication slot while the captured table is idle and other tables write WAL', async () => {
    await db.crm.query('CREATE SCHEMA IF NOT EXISTS cdc_check');
    await db.crm.query('CREATE TABLE IF NOT EXISTS cdc_check.wal_noise (id bigserial PRIMARY KEY, note text)');
    await db.crm.query("INSERT INTO cdc_check.wal_noise (note) SELECT repeat('x', 200) FROM generate_series(1, 2000)");
    const { rows } = await db.crm.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn');
    const written = rows[0]!.lsn;
    // heartbeat.interval.ms is 5 s; the connector then confirms the heartbeat's LSN.
    const confirmed = await until('dbz_crm to confirm an LSN past the unrelated writes', async () => {
      const r = await db.crm.query<{ confirmed: string; past: boolean }>(
        `SELECT confirmed_flush_lsn::text AS confirmed, confirmed_flush_lsn >= $1::pg_lsn AS past
           FROM pg_replication_slots WHERE slot_name = 'dbz_crm'`,
        [written],
      );
      return r.rows[0]?.past ? r.rows[0].confirmed : undefined;
    }, 60_000);
    console.log(`[cdc] WAL written up to ${written}; slot dbz_crm confirmed ${confirmed}`);
    await db.crm.query('DROP SCHEMA cdc_check CASCADE');
  }, 120_000);

  it('debezium.freshness reports the commit → ClickHouse lag of both tables, and its two stages', async () => {
    const rs = await ch.query({ query: 'SELECT * FROM debezium.freshness ORDER BY source_table', format: 'JSONEachRow' });
    type Row = { source_table: string; changes_5m: string; lag_p50_s: number; lag_p99_s: number; lag_max_s: number } & Record<
      'to_kafka_p50_s' | 'to_kafka_p99_s' | 'into_clickhouse_p50_s' | 'into_clickhouse_p99_s',
      number
    >;
    const rows = await rs.json<Row>();
    expect(rows.map((r) => r.source_table)).toEqual(['telemetry_events', 'users']);
    for (const r of rows) {
      expect(Number(r.changes_5m)).toBeGreaterThan(0);
      expect(r.lag_p50_s).toBeGreaterThanOrEqual(0);
      expect(r.lag_p99_s).toBeGreaterThanOrEqual(r.lag_p50_s);
      expect(r.lag_max_s).toBeGreaterThanOrEqual(r.lag_p99_s);
      // The stages are numbers (not NaN: every recent change carries its Kafka time).
      expect(r.to_kafka_p99_s).toBeGreaterThanOrEqual(r.to_kafka_p50_s);
      expect(r.into_clickhouse_p99_s).toBeGreaterThanOrEqual(r.into_clickhouse_p50_s);
      expect(r.to_kafka_p50_s).toBeGreaterThanOrEqual(0);
      expect(r.into_clickhouse_p50_s).toBeGreaterThanOrEqual(0);
    }
    console.log(`[cdc] freshness: ${JSON.stringify(rows)}`);
  });

  it('every change keeps the moment Kafka got it, between its commit and its insert into ClickHouse', async () => {
    const res = await call(`${crmApi.url}/users`, 'POST', { name: 'Kafka time', email: `kafka-ts+${randomBytes(4).toString('hex')}@example.com` });
    const { id } = (await res.json()) as { id: number };
    const row = await until('the new user in default.users', async () => {
      const rs = await ch.query({
        query: `SELECT toUnixTimestamp64Milli(_source_ts) AS s, toUnixTimestamp64Milli(_kafka_ts) AS k, toUnixTimestamp64Milli(_ingested_at) AS i
                  FROM default.users WHERE id = {id:Int32}`,
        query_params: { id },
        format: 'JSONEachRow',
        clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
      });
      return (await rs.json<{ s: number; k: number; i: number }>())[0];
    });
    expect(row.s).toBeGreaterThan(0);
    expect(row.k).toBeGreaterThanOrEqual(row.s);
    expect(row.i).toBeGreaterThanOrEqual(row.k);
  });

  it('npm run test:kafka-debezium passes against the running pipeline and reports each hop', () => {
    const port = (url: string) => new URL(url).port;
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/test_kafka_debezium.ts'], {
      cwd: new URL('..', import.meta.url).pathname,
      env: { ...process.env, CRM_API_PORT: port(crmApi.url), TELEMETRY_API_PORT: port(telemetryApi.url) },
      encoding: 'utf8',
      timeout: 240_000,
    });
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
    for (const hop of [/connector crm-connector\s+RUNNING/, /user \d+ created\s+\d+ ms/, /user \d+ updated/, /event .* stored/, /batch of 100 events stored/, /user \d+ deleted/]) {
      expect(r.stdout).toMatch(hop);
    }
    expect(r.stdout).toMatch(/end-to-end check passed/);
  }, 300_000);
});
