import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel } from 'kafkajs';
import { createKafka, createSchemaRegistry, kafkaAccess } from '@cdc/kafka';
import { CONNECTORS_DIR, loadConnectorDefinitions } from '../../../scripts/lib/connectors.js';
import { loadStackConfig } from '../../../scripts/stack/config.js';
import { pauseComponent } from '../../../scripts/stack/stack.js';
import { processorGroups, startApp, type RunningApp } from '../../../tests/support/apps.js';
import { applyConnector, clickhouse, connect, env, pools, unregister, until } from '../../../tests/support/cdc.js';
import { deleteTestGroups, rememberTestGroups, testGroupId } from '../../../tests/support/kafka-groups.js';

/**
 * The Avro path end to end on the real stack: Debezium with Apicurio's Avro converter
 * (connectors/avro/telemetry-avro-connector.json) writes telemetry changes to
 * avro.public.telemetry_events in the Confluent wire format against the stack's
 * registry; a processor reading that topic enriches them into ClickHouse exactly as
 * the JSON path does (the stack's processor, which reads the JSON topic, is paused
 * meanwhile, so every row checked was written from Avro). The connector streams only new changes (snapshot.mode no_data)
 * and is removed afterwards with its slot.
 */
const [def] = loadConnectorDefinitions(path.join(CONNECTORS_DIR, 'avro'));
const TOPIC = 'avro.public.telemetry_events';
const db = pools();
const ch = clickhouse();
const kafka = createKafka({ ...kafkaAccess(env), logLevel: 'silent' }, 'debezium-avro-test');
const stackConfig = loadStackConfig();
const USER = 720_000_000 + Math.floor(Math.random() * 1_000_000) * 10;
let resumeStackProcessor: () => Promise<void> = async () => {};
let processor: RunningApp | undefined;

beforeAll(async () => {
  await applyConnector(connect, def!);
  // RUNNING comes before the task has created its slot; with snapshot.mode no_data a
  // change committed before that would never be streamed.
  await until(
    'the Avro connector streaming from its slot',
    async () => (await db.telemetry.query(`SELECT 1 FROM pg_replication_slots WHERE slot_name = $1 AND active`, [def!.config['slot.name']])).rowCount === 1,
    60_000,
    250,
  );
}, 180_000);

afterAll(async () => {
  await processor?.stop();
  await resumeStackProcessor();
  await unregister(def!, db.telemetry);
  await Promise.allSettled([db.crm.end(), db.telemetry.end(), ch.close()]);
  await deleteTestGroups(kafkaAccess(env));
}, 120_000);

describe('Debezium Avro → processor', () => {
  it('decodes the Avro change events through the registry and enriches them like the JSON ones', async () => {
    // Only the Avro path's processor may write these events: the stack's one (which
    // would enrich them from the JSON topic) is paused first.
    resumeStackProcessor = (await pauseComponent(stackConfig, 'stream-processor')).resume;
    await db.crm.query(
      `INSERT INTO users (id, name, email, age, gender, country) VALUES ($1::int, 'Avro path user', 'avro-path+' || $1::text || '@example.com', 58, 'male', 'NO')`,
      [USER],
    );
    const uuids: string[] = Array.from({ length: 20 }, () => randomUUID());
    await db.telemetry.query(
      `INSERT INTO telemetry_events (event_uuid, user_id, prosthesis_type, muscle_group, signal_frequency, signal_duration, signal_amplitude, event_timestamp)
       SELECT u, $2, 'bionic_hand', 'forearm', 900 + i, 80, 1.0 / i, '2026-11-19T06:00:00.654321Z'::timestamptz + i * interval '1 minute'
         FROM unnest($1::uuid[]) WITH ORDINALITY AS t(u, i)`,
      [uuids, USER],
    );
    await db.telemetry.query(`UPDATE telemetry_events SET signal_amplitude = 42.5 WHERE event_uuid = $1`, [uuids[0]]);

    // The topic really carries the Confluent wire format, with ids the registry knows.
    const registry = createSchemaRegistry(env.SCHEMA_REGISTRY_URL);
    const consumer = kafka.consumer({ groupId: testGroupId('debezium-avro-check') });
    await consumer.connect();
    await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
    const ours: { op: string; uuid: string }[] = [];
    await consumer.run({
      eachMessage: async ({ message }) => {
        const value = message.value!;
        expect(value[0], 'magic byte').toBe(0);
        const decoded = (await registry.decode(value)) as { op: string; after: { event_uuid: string } | null };
        if (decoded.after && uuids.includes(decoded.after.event_uuid)) ours.push({ op: decoded.op, uuid: decoded.after.event_uuid });
      },
    });
    try {
      await until('the Avro change events in Kafka', async () => ours.length >= uuids.length + 1, 120_000);
    } finally {
      await consumer.disconnect();
    }
    expect(ours.filter((o) => o.op === 'c')).toHaveLength(uuids.length);
    expect(ours.filter((o) => o.op === 'u')).toEqual([{ op: 'u', uuid: uuids[0] }]);

    // A processor that reads the Avro topic, in its own consumer groups.
    const group = `avro-path-${randomUUID().slice(0, 8)}`;
    rememberTestGroups(...processorGroups(group));
    processor = await startApp('stream-processor', {
      STREAM_PROCESSOR_EVENTS_TOPIC: TOPIC,
      STREAM_PROCESSOR_GROUP: group,
      CDC_FRESHNESS_POLL_MS: '60000',
    });
    const rows = await until(
      'the Avro events enriched in ClickHouse',
      async () => {
        const rs = await ch.query({
          query: `SELECT toString(event_uuid) AS uuid, user_known, country, gender, age_band, signal_amplitude, signal_frequency,
                         toString(event_timestamp) AS ts
                  FROM analytics.telemetry_enriched FINAL WHERE user_id = {user:Int32} ORDER BY signal_frequency`,
          query_params: { user: USER },
          format: 'JSONEachRow',
        });
        const got = await rs.json<{ uuid: string; user_known: number; country: string; gender: string; age_band: string; signal_amplitude: number; signal_frequency: number; ts: string }>();
        return got.length === uuids.length && got.every((r) => r.user_known === 1) && got[0]!.signal_amplitude === 42.5 && got;
      },
      180_000,
      500,
    );
    expect(rows.map((r) => r.uuid)).toEqual(uuids);
    expect(rows[0]).toMatchObject({ country: 'NO', gender: 'male', age_band: '45-59', signal_frequency: 901, ts: '2026-11-19 06:01:00.654321' });
    expect(rows[19]!.signal_amplitude).toBeCloseTo(1 / 20, 12);

    const metrics = await (await fetch(`${processor.url}/metrics`)).text();
    const processed = new RegExp(`cdc_processor_messages_total\\{topic="${TOPIC.replaceAll('.', '\\.')}",result="processed"[^}]*\\} (\\d+)`).exec(metrics);
    expect(Number(processed?.[1])).toBeGreaterThanOrEqual(uuids.length + 1);
    expect(metrics).not.toMatch(new RegExp(`cdc_processor_messages_total\\{topic="${TOPIC.replaceAll('.', '\\.')}",result="dlq"[^}]*\\} [1-9]`));
  });
});
