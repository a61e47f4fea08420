import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { pino } from 'pino';
import { createClickHouse } from '@cdc/clickhouse';
import { loadEndpoints } from '@cdc/config';
import { createCrmDb } from '@cdc/db/crm';
import { eraseUser, ErasureIncomplete, needles, UserTopics, userIdOfKey } from '@cdc/erasure';
import { createKafka, kafkaAccess } from '@cdc/kafka';
import { loadStackConfig } from '../../../scripts/stack/config.js';
import { createApp } from '../src/app.js';
import { MAX_BODY_BYTES } from '../src/config.js';
import { DEFAULT_API_AUTH, createTestKey, withKey, type TestKey } from '../../../tests/support/api-keys.js';
import { json, uniqueEmail } from './support.js';

/**
 * Erasure end to end on the real pipeline: a user with telemetry, two versions of their
 * row, a dead message holding their e-mail in ClickHouse and a dead letter in Kafka,
 * erased through the API; afterwards no store returns their name, e-mail, phone or
 * address, and once the documented bound has passed (docs/security.md, "Erasure") no
 * file of ClickHouse's or Kafka's data directory holds their bytes.
 */
const env = loadEndpoints();
const ch = createClickHouse(env, 'pipeline', { requestTimeoutMs: 300_000 });
const telemetry = new pg.Pool({ connectionString: env.TELEMETRY_DATABASE_URL, max: 1 });
const db = createCrmDb(env.CRM_DATABASE_URL);
const kafka = { client: createKafka({ ...kafkaAccess(env), logLevel: 'silent' }, 'erasure-test'), access: kafkaAccess(env) };
// The API erases as the stack runs it: as the `eraser` principal, with only its ACLs.
const eraserAccess = { brokers: env.KAFKA_BROKERS, user: 'eraser', password: process.env.KAFKA_ERASER_PASSWORD ?? '' };
const eraserKafka = { client: createKafka({ ...eraserAccess, logLevel: 'silent' }, 'erasure-test-eraser'), access: eraserAccess };
const eraser = (id: number, by: Parameters<typeof eraseUser>[2]) => eraseUser({ crm: db.pool, ch, kafka: eraserKafka }, id, by, { cdcTimeoutMs: 60_000 });
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
    phone: `+44 7${randomBytes(4).readUInt32BE() % 1_000_000_000}`,
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
  // Up to two minutes: on a stack started a moment ago, Connect and ClickHouse's Kafka
  // consumers are still joining their groups when the first test begins.
  await until("the user's second version in ClickHouse", 120_000, async () =>
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

/** The documented bound on the erased bytes' life on disk after an erasure returns (docs/security.md). */
const ON_DISK_BOUND_MS = 40_000;

/** Per user topic: records keyed by the user that have a value, and values holding one of the needles. */
async function kafkaCopies(id: number, hexes: string[]) {
  const topics = await UserTopics.open(kafka.client, kafka.access);
  const keyed: Record<string, number> = {};
  const holding: Record<string, number> = {};
  try {
    for await (const { topic, record: m } of topics.records()) {
      if (m.value && userIdOfKey(m.key) === id) keyed[topic] = (keyed[topic] ?? 0) + 1;
      if (m.value && hexes.some((h) => m.value!.includes(Buffer.from(h, 'hex')))) holding[topic] = (holding[topic] ?? 0) + 1;
    }
    return { keyed, holding };
  } finally {
    await topics.close();
  }
}

/** Every file under the test stack's Kafka and ClickHouse data directories. */
function dataFiles(): string[] {
  const stack = loadStackConfig();
  const walk = (dir: string): string[] =>
    !existsSync(dir)
      ? []
      : readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : e.isFile() ? [join(dir, e.name)] : []));
  return [...walk(join(stack.kafka.dir, 'data')), ...walk(stack.clickhouse.dataDir)];
}

function filesHolding(files: string[], hexes: string[]): string[] {
  const needlesOf = hexes.map((h) => Buffer.from(h, 'hex'));
  return files.filter((f) => {
    try {
      const bytes = readFileSync(f);
      return needlesOf.some((n) => bytes.includes(n));
    } catch {
      return false; // deleted while the directory was being read
    }
  });
}

describe('erasure', () => {
  it('needs the users:erase scope', async () => {
    const { id } = await userWithHistory('scope');
    const res = await app.request(`/users/${id}/erase`, withKey(writer, { method: 'POST' }));
    expect(res.status).toBe(403);
    expect((await app.request(`/users/${id}`, withKey(writer))).status).toBe(200);
    expect((await app.request(`/users/${id}/erase`, withKey(erasing, { method: 'POST' }))).status).toBe(200);
  }, 240_000);

  it('leaves no store the product controls returning the contact data, nor any data file holding it', async () => {
    const { id, contact } = await userWithHistory('full');
    // A message that could not be used, holding the e-mail: it lands in debezium.kafka_errors.
    // And a dead letter as the processor writes one (dlq.ts: the original key and value).
    const producer = kafka.client.producer();
    await producer.connect();
    await producer.send({ topic: 'crm.public.users', messages: [{ key: JSON.stringify({ id }), value: `not json ${contact.email}` }] });
    await producer.send({
      topic: 'crm.public.users.dlq',
      messages: [{ key: JSON.stringify({ id }), value: JSON.stringify({ after: { id, ...contact } }), headers: { 'dlq.error': 'test' } }],
    });
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
    const kafkaBefore = await kafkaCopies(id, hexes);
    // Compaction may already have removed the create (the update supersedes it); never the bad message.
    expect(kafkaBefore.holding['crm.public.users']).toBeGreaterThanOrEqual(1);
    expect(kafkaBefore.keyed['crm.public.users.dlq']).toBe(1);
    expect(kafkaBefore.holding['crm.public.users.dlq']).toBe(1);
    const files = dataFiles();
    expect(files.length, 'the test reads the stack data directories').toBeGreaterThan(0);
    expect(filesHolding(files, hexes).length, 'the data files hold the values before the erasure').toBeGreaterThan(0);

    const res = await app.request(`/users/${id}/erase`, withKey(erasing, { method: 'POST' }));
    expect(res.status).toBe(200);
    const report = (await res.json()) as {
      postgres: { removed: number };
      clickhouse: { table: string; removed: number }[];
      kafka: { topic: string; removed: number }[];
      residue: unknown[];
    };
    expect(report.postgres.removed).toBe(1);
    expect(report.residue).toEqual([]);
    const removed = Object.fromEntries(report.clickhouse.map((t) => [t.table, t.removed]));
    // Its versions, the delete's own among them (merges may have folded some already).
    expect(removed['default.users']).toBeGreaterThanOrEqual(1);
    expect(removed['debezium.users_join']).toBeGreaterThanOrEqual(1);
    expect(removed['debezium.kafka_errors']).toBeGreaterThanOrEqual(1);
    // Kafka: the dead letter, and what compaction had not removed yet of the user's changes
    // (other tests' writes roll segments too, so compaction may have started on its own).
    expect(report.kafka.map((t) => t.topic).sort()).toEqual(['crm.public.users', 'crm.public.users.dlq']);
    expect(report.kafka.find((t) => t.topic === 'crm.public.users.dlq')!.removed).toBe(1);

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
    // Kafka: a read of either topic returns no record of the user's key with a value, and no value holding theirs.
    expect(await kafkaCopies(id, hexes)).toEqual({ keyed: {}, holding: {} });
    // Erasing again: nothing is left to erase.
    expect((await app.request(`/users/${id}/erase`, withKey(erasing, { method: 'POST' }))).status).toBe(404);

    // On disk: the replaced ClickHouse parts and Kafka segments are deleted within the bound
    // (old_parts_lifetime + cleanup_delay_period = 40 s; file.delete.delay.ms = 5 s).
    // Searched as stored: Kafka's batches here are uncompressed; a part that held only one
    // version of the row holds the value once, so LZ4 keeps it as a literal.
    const deadline = Date.now() + ON_DISK_BOUND_MS + 30_000;
    let left = filesHolding(dataFiles(), hexes);
    while (left.length > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 2_000));
      left = filesHolding(dataFiles(), hexes);
    }
    expect(left).toEqual([]);

  }, 300_000);

  it('stops with ErasureIncomplete when Kafka cannot be reached, and a second run finishes the work', async () => {
    const { id, contact } = await userWithHistory('resume');
    const unreachable = { brokers: ['127.0.0.1:1'], user: 'eraser', password: 'unused-password' };
    const down = { client: createKafka({ ...unreachable, logLevel: 'silent' }, 'erasure-test-down'), access: unreachable };
    const by = { keyId: 'test:erasure', requestId: null };
    const first = await eraseUser({ crm: db.pool, ch, kafka: down }, id, by, { cdcTimeoutMs: 60_000 }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(first).toBeInstanceOf(ErasureIncomplete);
    expect((first as ErasureIncomplete).message).toMatch(/Kafka.*run the erasure again/);
    // crm_db and ClickHouse were done before Kafka was needed.
    expect((first as ErasureIncomplete).report.postgres.removed).toBe(1);
    expect(await scalar('SELECT count() AS n FROM default.users WHERE id = {id:Int32}', { id })).toBe(0);
    expect((await kafkaCopies(id, needles([contact.email]))).holding['crm.public.users']).toBeGreaterThanOrEqual(1);

    const second = await eraser(id, by);
    expect(second.postgres.removed).toBe(0);
    expect(second.residue).toEqual([]);
    expect(await kafkaCopies(id, needles(Object.values(contact)))).toEqual({ keyed: {}, holding: {} });
  }, 240_000);

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
