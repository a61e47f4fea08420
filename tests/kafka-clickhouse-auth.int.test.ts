import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel, type SASLOptions } from 'kafkajs';
import { loadEndpoints } from '@cdc/config';
import { createKafka, kafkaAccess, PartitionReader } from '@cdc/kafka';
import { loadStackConfig } from '../scripts/stack/config.js';

/**
 * The attack suite's Kafka and ClickHouse part (docs/security.md): connections with no,
 * wrong or borrowed credentials are refused, and a principal that did log in can do
 * only what scripts/stack/kafka-acl.ts grants it. Every refused write is checked to
 * have stored nothing.
 */
const env = loadEndpoints();
const stack = loadStackConfig();
const admin = createKafka({ ...kafkaAccess(env), logLevel: 'silent' }, 'auth-attacks').admin();
const TOPIC = 'crm.public.users';
const SECRET_BODY = `attack-${randomUUID()}`;

const client = (sasl: SASLOptions | undefined) =>
  new Kafka({
    clientId: 'auth-attacks',
    brokers: env.KAFKA_BROKERS,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3_000,
    requestTimeout: 5_000,
    // A few retries: kafkajs looks a group's coordinator up with retries, even the admin's.
    retry: { retries: 3, initialRetryTime: 100 },
    ...(sasl && { sasl }),
  });
const scram = (username: string, password: string) => ({ mechanism: 'scram-sha-512' as const, username, password });
const plain = (username: string, password: string) => ({ mechanism: 'plain' as const, username, password });

const highWatermarks = async (topic: string) => (await admin.fetchTopicOffsets(topic)).map((p) => p.high).join(',');

/** What a client gets when it tries to connect and list topics: 'ok' or the error's name and message. */
async function tryList(sasl: SASLOptions | undefined): Promise<string> {
  const a = client(sasl).admin();
  try {
    await a.connect();
    await a.listTopics();
    return 'ok';
  } catch (err) {
    return `${(err as Error).name}: ${(err as Error).message}`;
  } finally {
    await a.disconnect().catch(() => {});
  }
}

/** Tries to produce one message; 'ok' or the error. */
async function tryWrite(sasl: SASLOptions, topic: string): Promise<string> {
  const producer = client(sasl).producer({ allowAutoTopicCreation: false });
  try {
    await producer.connect();
    await producer.send({ topic, messages: [{ key: 'attack', value: SECRET_BODY }] });
    return 'ok';
  } catch (err) {
    return `${(err as Error).name}: ${(err as Error).message}`;
  } finally {
    await producer.disconnect().catch(() => {});
  }
}

beforeAll(() => admin.connect());
afterAll(() => admin.disconnect());

describe('Kafka refuses whoever cannot log in', () => {
  it('closes a connection that does not speak SASL', async () => {
    expect(await tryList(undefined)).not.toBe('ok');
  });

  it('refuses a wrong password, an unknown user and an empty password', async () => {
    for (const sasl of [scram('admin', 'wrong-password-123'), scram('nobody', 'whatever-password'), scram('processor', '')]) {
      expect(await tryList(sasl), JSON.stringify(sasl.mechanism)).toMatch(/SASL|authentication/i);
    }
  });

  it('accepts PLAIN only from the admin and ClickHouse, never from the SCRAM principals', async () => {
    expect(await tryList(plain('processor', stack.env.KAFKA_PROCESSOR_PASSWORD))).toMatch(/authentication/i);
    expect(await tryList(plain('connect', stack.env.KAFKA_CONNECT_PASSWORD))).toMatch(/authentication/i);
    expect(await tryList(plain('clickhouse', 'wrong-password-123'))).toMatch(/authentication/i);
    expect(await tryList(plain('clickhouse', stack.env.KAFKA_CLICKHOUSE_PASSWORD))).toBe('ok');
  });
});

describe('a principal that logged in does only what it was granted', () => {
  it('lets nobody but Debezium (connect) write the change topics; refused writes store nothing', async () => {
    const before = await highWatermarks(TOPIC);
    for (const sasl of [
      scram('processor', stack.env.KAFKA_PROCESSOR_PASSWORD),
      scram('console', stack.env.KAFKA_CONSOLE_PASSWORD),
      plain('clickhouse', stack.env.KAFKA_CLICKHOUSE_PASSWORD),
    ]) {
      expect(await tryWrite(sasl, TOPIC), sasl.username).toMatch(/authoriz/i);
    }
    expect(await highWatermarks(TOPIC)).toBe(before);
  });

  it("lets the eraser write tombstones to the users' topics only", async () => {
    const events = 'telemetry.public.telemetry_events';
    const before = await highWatermarks(events);
    const eraser = scram('eraser', stack.env.KAFKA_ERASER_PASSWORD);
    expect(await tryWrite(eraser, events)).toMatch(/authoriz/i);
    expect(await tryWrite(eraser, 'analytics.telemetry_enriched')).toMatch(/authoriz/i);
    expect(await highWatermarks(events)).toBe(before);
    const reader = new PartitionReader({ brokers: env.KAFKA_BROKERS, user: 'eraser', password: stack.env.KAFKA_ERASER_PASSWORD, clientId: 'auth-attacks' });
    try {
      const refused = await reader.readOne('connect-configs', 0, 0n).then(
        () => 'ok',
        (err: Error) => `${err.message} ${String(err.cause ?? '')}`,
      );
      expect(refused).toMatch(/authoriz/i);
    } finally {
      await reader.disconnect();
    }
  });

  it("keeps each principal to its own topics and groups: connect cannot read what it writes", async () => {
    /** Fetches one record without a group (Fetch needs READ on the topic); 'ok' or the error. */
    const fetchOne = async (user: string, password: string, topic: string): Promise<string> => {
      const reader = new PartitionReader({ brokers: env.KAFKA_BROKERS, user, password, clientId: 'auth-attacks' });
      try {
        await reader.readOne(topic, 0, 0n);
        return 'ok';
      } catch (err) {
        return `${(err as Error).message} ${String((err as Error).cause ?? '')}`;
      } finally {
        await reader.disconnect();
      }
    };
    expect(await fetchOne('connect', stack.env.KAFKA_CONNECT_PASSWORD, TOPIC)).toMatch(/authoriz/i);
    expect(await fetchOne('processor', stack.env.KAFKA_PROCESSOR_PASSWORD, 'connect-configs')).toMatch(/authoriz/i);
    // ClickHouse logs in with PLAIN: it cannot even describe a topic it does not read.
    const ch = client(plain('clickhouse', stack.env.KAFKA_CLICKHOUSE_PASSWORD)).admin();
    await ch.connect();
    try {
      await expect(ch.fetchTopicOffsets('analytics.telemetry_enriched')).rejects.toThrow(/authoriz/i);
    } finally {
      await ch.disconnect();
    }
    // What each may read, it can.
    expect(await fetchOne('processor', stack.env.KAFKA_PROCESSOR_PASSWORD, TOPIC)).toBe('ok');
    expect(await fetchOne('console', stack.env.KAFKA_CONSOLE_PASSWORD, 'connect-configs')).toBe('ok');

    /** Reads a group's committed offsets (needs DESCRIBE on the group); 'ok' or the error type. */
    const groupOffsets = async (sasl: SASLOptions, groupId: string): Promise<string> => {
      const a = client(sasl).admin();
      try {
        await a.connect();
        await a.fetchOffsets({ groupId, topics: [TOPIC] });
        return 'ok';
      } catch (err) {
        return `${(err as Error & { type?: string }).type ?? ''} ${(err as Error).message}`;
      } finally {
        await a.disconnect().catch(() => {});
      }
    };
    // Outside its own prefix a principal cannot even see a group's offsets (the broker
    // answers GROUP_AUTHORIZATION_FAILED, which kafkajs reports as finding no coordinator);
    // the console, granted DESCRIBE on every group, reads the same group's offsets.
    expect(await groupOffsets(scram('processor', stack.env.KAFKA_PROCESSOR_PASSWORD), 'clickhouse-crm-users')).not.toBe('ok');
    expect(await groupOffsets(scram('connect', stack.env.KAFKA_CONNECT_PASSWORD), 'stream-processor-enrich')).not.toBe('ok');
    expect(await groupOffsets(scram('console', stack.env.KAFKA_CONSOLE_PASSWORD), 'clickhouse-crm-users')).toBe('ok');
    expect(await groupOffsets(scram('processor', stack.env.KAFKA_PROCESSOR_PASSWORD), 'stream-processor-enrich')).toBe('ok');
  });

  it('lets no principal but the admin create or delete topics, or change ACLs', async () => {
    const name = `attack-${randomUUID()}`;
    for (const sasl of [scram('processor', stack.env.KAFKA_PROCESSOR_PASSWORD), scram('console', stack.env.KAFKA_CONSOLE_PASSWORD)]) {
      const a = client(sasl).admin();
      await a.connect();
      try {
        const refusal = (p: Promise<unknown>) =>
          p.then(
            () => 'ok',
            (err: Error & { errors?: { type?: string }[]; type?: string }) => [err.type, ...(err.errors ?? []).map((e) => e.type)].join(' '),
          );
        expect(await refusal(a.createTopics({ topics: [{ topic: name }] }))).toMatch(/AUTHORIZATION_FAILED/);
        expect(await refusal(a.deleteTopics({ topics: [TOPIC] }))).toMatch(/AUTHORIZATION_FAILED/);
      } finally {
        await a.disconnect();
      }
    }
    expect(await admin.listTopics()).toContain(TOPIC);
    expect(await admin.listTopics()).not.toContain(name);
  });
});

describe('ClickHouse refuses whoever cannot log in', () => {
  const post = (sql: string, headers: Record<string, string>) =>
    fetch(env.CLICKHOUSE_URL, { method: 'POST', body: sql, headers, signal: AbortSignal.timeout(10_000) });

  it('answers 516 to a wrong password, an unknown user and no credentials, and runs nothing', async () => {
    const table = `default.attack_${randomUUID().replaceAll('-', '')}`;
    const attempts: Record<string, string>[] = [
      { 'X-ClickHouse-User': env.CLICKHOUSE_USER, 'X-ClickHouse-Key': 'wrong-password' },
      { 'X-ClickHouse-User': 'nobody', 'X-ClickHouse-Key': env.CLICKHOUSE_PASSWORD },
      { 'X-ClickHouse-User': env.CLICKHOUSE_ANALYST_USER, 'X-ClickHouse-Key': env.CLICKHOUSE_PASSWORD },
      {},
      { Authorization: `Basic ${Buffer.from(`${env.CLICKHOUSE_USER}:`).toString('base64')}` },
    ];
    for (const headers of attempts) {
      const res = await post(`CREATE TABLE ${table} (x UInt8) ENGINE = Memory`, headers);
      expect(res.status, JSON.stringify(Object.keys(headers))).not.toBe(200);
      expect(await res.text()).toMatch(/Code: 516|AUTHENTICATION_FAILED/);
    }
    const exists = await post(`EXISTS TABLE ${table}`, { 'X-ClickHouse-User': env.CLICKHOUSE_USER, 'X-ClickHouse-Key': env.CLICKHOUSE_PASSWORD });
    expect((await exists.text()).trim()).toBe('0');
  });

  it("refuses the analyst's writes with its own password", async () => {
    const res = await post('CREATE TABLE default.analyst_attack (x UInt8) ENGINE = Memory', {
      'X-ClickHouse-User': env.CLICKHOUSE_ANALYST_USER,
      'X-ClickHouse-Key': env.CLICKHOUSE_ANALYST_PASSWORD,
    });
    expect(res.status).not.toBe(200);
    // 164 READONLY from the profile, or 497 ACCESS_DENIED from the grants: refused either way.
    expect(await res.text()).toMatch(/Code: (164|497)/);
  });
});
