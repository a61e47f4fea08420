import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel } from 'kafkajs';
import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { createKafka, createSchemaRegistry, kafkaAccess } from '@cdc/kafka';
import { loadStackConfig } from '../../../scripts/stack/config.js';
import { pauseComponent } from '../../../scripts/stack/stack.js';
import { startApp, type RunningApp } from '../../../tests/support/apps.js';
import { clickhouse, env, pools, until } from '../../../tests/support/cdc.js';
import { deleteTestGroups, testGroupId } from '../../../tests/support/kafka-groups.js';
import { toEpochMicros, type EnrichedRecord } from '../src/enriched-topic.js';

/**
 * The processor writing analytics.telemetry_enriched to Kafka in Avro, on the real
 * stack (PostgreSQL → Debezium → Kafka → processor → ClickHouse and Kafka) with the
 * stack's schema registry (Apicurio, Confluent API): events of a user who does not exist yet, then the user, an
 * update and a delete. Read back through the registry, the current record of every
 * event (highest lsn, then user_known) equals its row in ClickHouse.
 */
const TOPIC = 'analytics.telemetry_enriched';
const db = pools();
const ch = clickhouse();
const kafka = createKafka({ ...kafkaAccess(env), logLevel: 'silent' }, 'avro-output-test');
const stackConfig = loadStackConfig();
const USER = 710_000_000 + Math.floor(Math.random() * 1_000_000) * 10;
let resumeStackProcessor: () => Promise<void> = async () => {};
let processor: RunningApp | undefined;

beforeAll(async () => {
  resumeStackProcessor = (await pauseComponent(stackConfig, 'stream-processor')).resume;
  processor = await startApp('stream-processor', {
    STREAM_PROCESSOR_OUTPUT_TOPIC: TOPIC,
    CDC_FRESHNESS_POLL_MS: '60000',
  });
  await until('the processor to be ready', async () => (await fetch(`${processor!.url}/ready`)).ok || undefined, 300_000);
}, 320_000);

afterAll(async () => {
  await processor?.stop();
  await resumeStackProcessor();
  await Promise.allSettled([db.crm.end(), db.telemetry.end(), ch.close()]);
  await deleteTestGroups(kafkaAccess(env));
}, 120_000);

/** Every record of the topic for these events, decoded, from the beginning. */
async function records(uuids: Set<string>, registry: SchemaRegistry, expected: (r: EnrichedRecord[]) => boolean): Promise<EnrichedRecord[]> {
  const consumer = kafka.consumer({ groupId: testGroupId('avro-output-check') });
  await consumer.connect();
  await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
  const seen: EnrichedRecord[] = [];
  await consumer.run({
    eachMessage: async ({ message }) => {
      if (!uuids.has(message.key!.toString())) return;
      const record = (await registry.decode(message.value!)) as EnrichedRecord;
      expect(record.event_uuid).toBe(message.key!.toString());
      seen.push(record);
    },
  });
  try {
    return await until('the output topic to hold the expected records', async () => expected(seen) && seen, 120_000);
  } finally {
    await consumer.disconnect();
  }
}

const current = (all: EnrichedRecord[]) => {
  const byUuid = new Map<string, EnrichedRecord>();
  for (const r of all) {
    const held = byUuid.get(r.event_uuid);
    if (!held || r.lsn > held.lsn || (r.lsn === held.lsn && r.user_known && !held.user_known)) byUuid.set(r.event_uuid, r);
  }
  return byUuid;
};

describe('the Avro output topic', () => {
  it('carries every event as enriched, re-enriched, updated and deleted, equal to ClickHouse', async () => {
    const uuids = Array.from({ length: 6 }, () => randomUUID());
    await db.telemetry.query(
      `INSERT INTO telemetry_events (event_uuid, user_id, prosthesis_type, muscle_group, signal_frequency, signal_duration, signal_amplitude, event_timestamp)
       SELECT u, $2, 'bionic_leg', 'quadriceps', 750, 120, 0.5 + i / 10.0, '2026-11-20T08:00:00.123456Z'::timestamptz + i * interval '1 second'
         FROM unnest($1::uuid[]) WITH ORDINALITY AS t(u, i)`,
      [uuids, USER],
    );
    const registry = createSchemaRegistry(env.SCHEMA_REGISTRY_URL);
    const wanted = new Set(uuids);
    // User-less first: the user does not exist yet.
    const first = current(await records(wanted, registry, (r) => current(r).size === uuids.length));
    expect([...first.values()].every((r) => !r.user_known && r.country === null && !r.deleted)).toBe(true);

    await db.crm.query(
      `INSERT INTO users (id, name, email, age, gender, country) VALUES ($1::int, 'Avro user', 'avro+' || $1::text || '@example.com', 33, 'female', 'PT')`,
      [USER],
    );
    await db.telemetry.query(`UPDATE telemetry_events SET signal_amplitude = 9.75 WHERE event_uuid = $1`, [uuids[0]]);
    await db.telemetry.query(`DELETE FROM telemetry_events WHERE event_uuid = $1`, [uuids[1]]);

    const all = await records(wanted, registry, (r) => {
      const c = current(r);
      return c.get(uuids[1]!)?.deleted === true && [...c.values()].filter((x) => !x.deleted).every((x) => x.user_known) &&
        c.get(uuids[0]!)?.signal_amplitude === 9.75;
    });
    const versions = await fetch(new URL(`subjects/${TOPIC}-value/versions`, `${env.SCHEMA_REGISTRY_URL}/`));
    expect(versions.status).toBe(200);
    expect(((await versions.json()) as number[]).length).toBeGreaterThanOrEqual(1);

    const inClickHouse = await (
      await ch.query({
        query: `SELECT toString(event_uuid) AS event_uuid, toString(id) AS id, user_id, prosthesis_type, muscle_group, signal_frequency,
                       signal_duration, signal_amplitude, toString(event_timestamp) AS event_timestamp, request_id, user_known, country, gender, age_band,
                       toString(_lsn) AS lsn
                FROM analytics.telemetry_enriched FINAL WHERE event_uuid IN {u:Array(UUID)}`,
        query_params: { u: uuids },
        format: 'JSONEachRow',
        // The toString(...) AS <column> aliases must not shadow the columns in WHERE.
        clickhouse_settings: { prefer_column_name_to_alias: 1 },
      })
    ).json<Record<string, string | number | null>>();
    const live = [...current(all).values()].filter((r) => !r.deleted).sort((a, b) => a.event_uuid.localeCompare(b.event_uuid));
    expect(inClickHouse).toHaveLength(uuids.length - 1);
    expect(
      live.map((r) => ({
        ...r,
        id: String(r.id),
        user_known: r.user_known ? 1 : 0,
        lsn: String(r.lsn),
      })),
    ).toEqual(
      inClickHouse.sort((a, b) => String(a.event_uuid).localeCompare(String(b.event_uuid))).map((row) => ({
        ...row,
        event_timestamp: toEpochMicros(String(row.event_timestamp)),
        deleted: false,
        source_ts: expect.any(Number),
      })),
    );
    expect(live[0]).toMatchObject({ country: 'PT', gender: 'female', age_band: '30-44' });
  });
});
