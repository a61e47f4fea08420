import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import type { Consumer } from 'kafkajs';
import { createKafka, kafkaAccess } from '@cdc/kafka';
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { loadEndpoints } from '@cdc/config';
import { ConnectClient } from '@cdc/connect';
import { dropSlotWhenReleased, until } from './support/cdc.js';
import { deleteTestGroups, testGroupId } from './support/kafka-groups.js';
import { grantFor } from '../scripts/stack/kafka-acl.js';

/**
 * The whole path once, with plain SQL and nothing of the product's own code:
 * PostgreSQL commit → Debezium (pgoutput) → Kafka → ClickHouse Kafka engine →
 * materialized view → MergeTree. It proves the native stack is wired, not the apps.
 */
const env = loadEndpoints();
const CONNECTOR = 'smoke-crm';
// Its own PostgreSQL schema keeps the product's `public` schema (Prisma's) untouched.
const TOPIC = 'smoke.smoke.events';
const SLOT = 'smoke_slot';
const CH_GROUP = testGroupId('smoke-clickhouse');
let revokeAcls: (() => Promise<void>) | undefined;

const crmUrl = new URL(env.CRM_DATABASE_URL);
const connect = new ConnectClient(env.KAFKA_CONNECT_URL);
const kafka = createKafka({ ...kafkaAccess(env), logLevel: 'silent' }, 'smoke-test');
let db: pg.Client;
let ch: ClickHouseClient;
let consumer: Consumer | undefined;

interface DebeziumEnvelope {
  before: Record<string, unknown> | null;
  after: { id: number; note: string } | null;
  source: { lsn: number; db: string; schema: string; table: string; ts_ms: number };
  op: 'c' | 'u' | 'd' | 'r' | 't';
}


/** Removes what the connector leaves in PostgreSQL: its replication slot and publication. */
async function dropSlot(): Promise<void> {
  await dropSlotWhenReleased(db, SLOT);
  await db.query('DROP PUBLICATION IF EXISTS smoke_pub');
}

beforeAll(async () => {
  db = new pg.Client({ connectionString: env.CRM_DATABASE_URL });
  await db.connect();
  ch = createClient({ url: env.CLICKHOUSE_URL, username: env.CLICKHOUSE_USER, password: env.CLICKHOUSE_PASSWORD });

  // Start from a clean slate, whatever an interrupted earlier run left behind.
  await connect.deleteWithOffsets(CONNECTOR);
  await dropSlot();
  await ch.command({ query: 'DROP DATABASE IF EXISTS smoke SYNC' });

  await db.query('CREATE SCHEMA IF NOT EXISTS smoke');
  await db.query(`CREATE TABLE IF NOT EXISTS smoke.events (
      id bigserial PRIMARY KEY,
      note text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now())`);

  const admin = kafka.admin();
  await admin.connect();
  if (!(await admin.listTopics()).includes(TOPIC)) {
    await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 1 }], waitForLeaders: true });
  }
  await admin.disconnect();
  // The test's own topic and group: Debezium writes it, ClickHouse reads it.
  revokeAcls = await grantFor(kafka, [
    { principal: 'connect', resource: 'TOPIC', name: TOPIC, operations: ['WRITE', 'DESCRIBE'] },
    { principal: 'clickhouse', resource: 'TOPIC', name: TOPIC, operations: ['READ'] },
    { principal: 'clickhouse', resource: 'GROUP', name: CH_GROUP, operations: ['READ'] },
  ]);

  await ch.command({ query: 'CREATE DATABASE smoke' });
  await ch.command({
    query: `CREATE TABLE smoke.events_kafka (message String)
      ENGINE = Kafka
      SETTINGS kafka_broker_list = '${env.KAFKA_BROKERS.join(',')}',
               kafka_topic_list = '${TOPIC}',
               kafka_group_name = '${CH_GROUP}',
               kafka_format = 'JSONAsString',
               kafka_flush_interval_ms = 100`,
  });
  await ch.command({
    query: `CREATE TABLE smoke.events (
        id Int64, note String, op LowCardinality(String), lsn UInt64,
        committed_at DateTime64(3, 'UTC'), ingested_at DateTime64(3, 'UTC'))
      ENGINE = MergeTree ORDER BY id`,
  });
  await ch.command({
    query: `CREATE MATERIALIZED VIEW smoke.events_mv TO smoke.events AS
      SELECT JSONExtractInt(message, 'after', 'id') AS id,
             JSONExtractString(message, 'after', 'note') AS note,
             JSONExtractString(message, 'op') AS op,
             JSONExtractUInt(message, 'source', 'lsn') AS lsn,
             fromUnixTimestamp64Milli(JSONExtractInt(message, 'source', 'ts_ms'), 'UTC') AS committed_at,
             now64(3, 'UTC') AS ingested_at
      FROM smoke.events_kafka
      WHERE JSONExtractString(message, 'op') IN ('c', 'u', 'r')`,
  });

  await connect.createFresh(CONNECTOR, {
    'connector.class': 'io.debezium.connector.postgresql.PostgresConnector',
    'plugin.name': 'pgoutput',
    'database.hostname': crmUrl.hostname,
    'database.port': crmUrl.port || '5432',
    'database.user': decodeURIComponent(crmUrl.username),
    'database.password': decodeURIComponent(crmUrl.password),
    'database.dbname': crmUrl.pathname.slice(1),
    'topic.prefix': 'smoke',
    'table.include.list': 'smoke.events',
    'slot.name': SLOT,
    'publication.name': 'smoke_pub',
    'publication.autocreate.mode': 'filtered',
    'snapshot.mode': 'no_data',
    'key.converter': 'org.apache.kafka.connect.json.JsonConverter',
    'key.converter.schemas.enable': 'false',
    'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
    'value.converter.schemas.enable': 'false',
  });
  await connect.waitRunning(CONNECTOR, 90_000);
});

afterAll(async () => {
  await consumer?.disconnect();
  await connect.deleteWithOffsets(CONNECTOR).catch(() => {});
  if (db) {
    await dropSlot().catch(() => {});
    await db.end();
  }
  await ch?.command({ query: 'DROP DATABASE IF EXISTS smoke SYNC' }).catch(() => {});
  await ch?.close();
  await deleteTestGroups(kafkaAccess(env));
  await revokeAcls?.();
}, 120_000);

describe('smoke: PostgreSQL → Debezium → Kafka → ClickHouse', () => {
  it('carries one committed row through every hop', async () => {
    const note = `smoke-${randomUUID()}`;

    // Subscribe before writing so the event cannot be missed.
    const seen = new Promise<{ key: unknown; value: DebeziumEnvelope }>((resolve) => {
      consumer = kafka.consumer({ groupId: testGroupId('smoke-test') });
      void (async () => {
        await consumer!.connect();
        await consumer!.subscribe({ topic: TOPIC, fromBeginning: true });
        await consumer!.run({
          eachMessage: async ({ message }) => {
            if (!message.value) return; // tombstone
            const value = JSON.parse(message.value.toString()) as DebeziumEnvelope;
            if (value.after?.note === note) {
              resolve({ key: JSON.parse(message.key!.toString()), value });
            }
          },
        });
      })();
    });

    const inserted = await db.query<{ id: string }>('INSERT INTO smoke.events (note) VALUES ($1) RETURNING id', [note]);
    const committedAt = Date.now();
    const id = Number(inserted.rows[0]!.id);

    const event = await Promise.race([
      seen,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no change event in Kafka within 60s')), 60_000)),
    ]);
    const kafkaAt = Date.now();
    expect(event.key).toEqual({ id });
    expect(event.value.op).toBe('c');
    expect(event.value.before).toBeNull();
    expect(event.value.after).toMatchObject({ id, note });
    expect(event.value.source).toMatchObject({ db: crmUrl.pathname.slice(1), schema: 'smoke', table: 'events' });
    expect(event.value.source.lsn).toBeGreaterThan(0);

    const row = await until('the row in ClickHouse', async () => {
      const rs = await ch.query({
        query: 'SELECT id, note, op, lsn, ingested_at FROM smoke.events WHERE note = {note:String}',
        query_params: { note },
        format: 'JSONEachRow',
      });
      return (await rs.json<{ id: string; note: string; op: string; lsn: string; ingested_at: string }>())[0];
    }, 60_000, 50);
    const clickhouseAt = Date.now();
    expect(row).toMatchObject({ note, op: 'c' });
    expect(Number(row.id)).toBe(id);
    expect(Number(row.lsn)).toBe(event.value.source.lsn);

    console.log(
      `[smoke] commit → Kafka (seen by a consumer): ${kafkaAt - committedAt} ms; ` +
        `commit → ClickHouse (row visible to a query): ${clickhouseAt - committedAt} ms`,
    );
  });
});
