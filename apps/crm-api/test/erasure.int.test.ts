import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { pino } from 'pino';
import { createClickHouse } from '@cdc/clickhouse';
import { loadEndpoints } from '@cdc/config';
import { createCrmDb } from '@cdc/db/crm';
import { eraseUser, needles } from '@cdc/erasure';
import { createKafka, kafkaAccess } from '@cdc/kafka';
import { createApp } from '../src/app.js';
import { MAX_BODY_BYTES } from '../src/config.js';
import { DEFAULT_API_AUTH, createTestKey, withKey, type TestKey } from '../../../tests/support/api-keys.js';
import { json, uniqueEmail } from './support.js';

/**
 * Erasure end to end on the real pipeline: a user with telemetry, two versions of their
 * row and a dead message holding their e-mail in ClickHouse, erased through the API;
 * afterwards no store returns their name, e-mail, phone or address.
 */
const env = loadEndpoints();
const ch = createClickHouse(env, 'pipeline', { requestTimeoutMs: 300_000 });
const telemetry = new pg.Pool({ connectionString: env.TELEMETRY_DATABASE_URL, max: 1 });
const db = createCrmDb(env.CRM_DATABASE_URL);
const eraser = (id: number, by: Parameters<typeof eraseUser>[2]) => eraseUser({ crm: db.pool, ch }, id, by, { cdcTimeoutMs: 60_000 });
const { app } = createApp({ db, log: pino({ level: 'silent' }), config: { maxBodyBytes: MAX_BODY_BYTES, auth: DEFAULT_API_AUTH }, erase: eraser });
let writer: TestKey;
let erasing: TestKey;

const until = async <T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 300));
  }
};

const scalar = async (query: string, params: Record<string, unknown> = {}): Promise<number> => {
  const rs = await ch.query({ query, query_params: params, format: 'JSONEachRow' });
  const [row] = await rs.json<{ n: string }>();
  return Number(row?.n ?? 0);
};

/** A user as a client would create and change one, with telemetry; their contact values. */
async function userWithHistory(tag: string) {
  const run = randomBytes(4).toString('hex');
  const contact = {
    name: `Erasure Subject ${tag} ${run}`,
    email: uniqueEmail(`erase-${tag}`),
    phone: `+44 20 7946 ${Math.floor(Math.random() * 9000 + 1000)}`,
    address: `${Math.floor(Math.random() * 900 + 100)} Forgotten Lane ${tag} ${run}`,
  };
  const created = await app.request('/users', withKey(writer, json('POST', { ...contact, age: 41, gender: 'female', country: 'UK' })));
  expect(created.status).toBe(201);
  const { id } = (await created.json()) as { id: number };
  const patched = await app.request(`/users/${id}`, withKey(writer, json('PATCH', { country: 'IE' })));
  expect(patched.status).toBe(200);
  await telemetry.query(
    `INSERT INTO telemetry_events (user_id, prosthesis_type, muscle_group, signal_frequency, signal_duration, signal_amplitude, event_timestamp)
     SELECT $1, 'arm', 'biceps', 500, 100, 0.5, now() - g * interval '1 second' FROM generate_series(1, 5) g`,
    [id],
  );
  // The changed version in ClickHouse (a merge may already have folded the first into it).
  await until("the user's second version in ClickHouse", 60_000, async () =>
    (await scalar("SELECT count() AS n FROM default.users WHERE id = {id:Int32} AND country = 'IE'", { id })) > 0 ? true : undefined,
  );
  return { id, contact };
}

beforeAll(async () => {
  writer = await createTestKey({ scopes: ['users:write', 'users:read'] });
  erasing = await createTestKey({ scopes: ['users:erase'] });
});

afterAll(async () => {
  await telemetry.end();
  await db.close();
  await ch.close();
});

describe('erasure', () => {
  it('needs the users:erase scope', async () => {
    const { id } = await userWithHistory('scope');
    const res = await app.request(`/users/${id}/erase`, withKey(writer, { method: 'POST' }));
    expect(res.status).toBe(403);
    expect((await app.request(`/users/${id}`, withKey(writer))).status).toBe(200);
    expect((await app.request(`/users/${id}/erase`, withKey(erasing, { method: 'POST' }))).status).toBe(200);
  }, 120_000);

  it('leaves no store the product controls returning the contact data', async () => {
    const { id, contact } = await userWithHistory('full');
    // A message that could not be used, holding the e-mail: it lands in debezium.kafka_errors.
    const producer = createKafka({ ...kafkaAccess(env), logLevel: 'silent' }, 'erasure-test').producer();
    await producer.connect();
    await producer.send({ topic: 'crm.public.users', messages: [{ key: JSON.stringify({ id }), value: `not json ${contact.email}` }] });
    await producer.disconnect();
    await until('the dead message in debezium.kafka_errors', 60_000, async () =>
      (await scalar("SELECT count() AS n FROM debezium.kafka_errors WHERE JSONExtractInt(kafka_key, 'id') = {id:Int32}", { id })) > 0
        ? true
        : undefined,
    );
    const hexes = needles(Object.values(contact));
    const copies = async () => {
      const where = hexes.map((h) => `position(toString(x), unhex('${h}')) > 0`).join(' OR ');
      return {
        users: await scalar(`SELECT count() AS n FROM (SELECT arrayJoin([name, email, ifNull(phone, ''), ifNull(address, '')]) AS x FROM default.users) WHERE ${where}`),
        join: await scalar(`SELECT count() AS n FROM (SELECT arrayJoin([name, email]) AS x FROM debezium.users_join) WHERE ${where}`),
        errors: await scalar(`SELECT count() AS n FROM (SELECT raw_message AS x FROM debezium.kafka_errors) WHERE ${where}`),
      };
    };
    const before = await copies();
    expect(before.users).toBeGreaterThan(0);
    expect(before.errors).toBeGreaterThan(0);

    const res = await app.request(`/users/${id}/erase`, withKey(erasing, { method: 'POST' }));
    expect(res.status).toBe(200);
    const report = (await res.json()) as { postgres: { removed: number }; clickhouse: { table: string; removed: number }[]; residue: unknown[] };
    expect(report.postgres.removed).toBe(1);
    expect(report.residue).toEqual([]);
    const removed = Object.fromEntries(report.clickhouse.map((t) => [t.table, t.removed]));
    // Its versions, the delete's own among them (merges may have folded some already).
    expect(removed['default.users']).toBeGreaterThanOrEqual(1);
    expect(removed['debezium.users_join']).toBeGreaterThanOrEqual(1);
    expect(removed['debezium.kafka_errors']).toBeGreaterThanOrEqual(1);

    // PostgreSQL: the row is gone, and no other row holds the e-mail.
    expect((await db.pool.query('SELECT count(*)::int AS n FROM users WHERE id = $1 OR email = $2', [id, contact.email])).rows[0].n).toBe(0);
    // ClickHouse: no table, with or without FINAL, returns any of the values.
    expect(await copies()).toEqual({ users: 0, join: 0, errors: 0 });
    // The analytics hold no contact column at all; the user's telemetry stays, by id only.
    expect(
      await scalar(
        "SELECT count() AS n FROM system.columns WHERE database = 'analytics' AND name IN ('name', 'email', 'phone', 'address')",
      ),
    ).toBe(0);
    expect(await scalar('SELECT count() AS n FROM default.telemetry_events WHERE user_id = {id:Int32}', { id })).toBe(5);
    // Erasing again: nothing is left to erase.
    expect((await app.request(`/users/${id}/erase`, withKey(erasing, { method: 'POST' }))).status).toBe(404);

  }, 180_000);

  it('is also one command: npm run erase -- ID', async () => {
    const { id } = await userWithHistory('cli');
    const run = (...args: string[]) =>
      spawnSync(process.execPath, ['--import', 'tsx', 'scripts/erase/cli.ts', ...args], { encoding: 'utf8', env: process.env, timeout: 120_000 });
    const ok = run(String(id), '--json');
    expect(ok.status, ok.stderr).toBe(0);
    const report = JSON.parse(ok.stdout) as { user_id: number; postgres: { removed: number }; residue: unknown[] };
    expect(report).toMatchObject({ user_id: id, postgres: { removed: 1 }, residue: [] });
    const again = run(String(id));
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(new RegExp(`no user with id ${id}`));
    expect(run('--nope').status).toBe(2);
    expect(run('abc').status).toBe(2);
  }, 180_000);
});
