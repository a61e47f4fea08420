import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logLevel } from 'kafkajs';
import { createKafka, kafkaAccess } from '@cdc/kafka';
import { loadStackConfig } from '../../../scripts/stack/config.js';
import { pauseComponent } from '../../../scripts/stack/stack.js';
import { startApp, type RunningApp } from '../../../tests/support/apps.js';
import { clickhouse, env, pools, until } from '../../../tests/support/cdc.js';
import { deleteTestGroups, testGroupId } from '../../../tests/support/kafka-groups.js';
import { TcpProxy } from '../../../tests/support/tcp-proxy.js';

/**
 * The processor with its ClickHouse behind a TCP proxy the test can cut: poison
 * messages go to the DLQ and processing goes on; a ClickHouse outage opens the
 * circuit and pauses consumption (not ready, nothing committed past what was
 * written), and when ClickHouse is back every event arrives.
 */
const TOPIC = 'telemetry.public.telemetry_events';
const db = pools();
const ch = clickhouse();
const kafka = createKafka({ ...kafkaAccess(env), logLevel: 'silent' }, 'processor-faults-test');
const stackConfig = loadStackConfig();
const chUrl = new URL(env.CLICKHOUSE_URL);
const proxy = new TcpProxy(chUrl.hostname, Number(chUrl.port || 8123));
let resumeStackProcessor: () => Promise<void> = async () => {};
let processor: RunningApp;

async function insertEvents(n: number): Promise<string[]> {
  const uuids = Array.from({ length: n }, () => randomUUID());
  await db.telemetry.query(
    `INSERT INTO telemetry_events (event_uuid, user_id, prosthesis_type, muscle_group, signal_frequency, signal_duration, signal_amplitude, event_timestamp)
     SELECT u, 1, 'bionic_arm', 'deltoid', 500, 100, 1.25, '2026-11-21T10:00:00Z' FROM unnest($1::uuid[]) AS u`,
    [uuids],
  );
  return uuids;
}

async function enrichedCount(uuids: string[]): Promise<number> {
  const rs = await ch.query({
    query: 'SELECT count() AS n FROM analytics.telemetry_enriched FINAL WHERE event_uuid IN {u:Array(UUID)}',
    query_params: { u: uuids },
    format: 'JSONEachRow',
  });
  return Number((await rs.json<{ n: number }>())[0]!.n);
}

const metric = async (name: string) => {
  const text = await (await fetch(`${processor.url}/metrics`)).text();
  const m = new RegExp(`^${name}\\{[^}]*\\} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
};

beforeAll(async () => {
  resumeStackProcessor = (await pauseComponent(stackConfig, 'stream-processor')).resume;
  await proxy.start();
  processor = await startApp('stream-processor', {
    CLICKHOUSE_URL: `http://127.0.0.1:${proxy.port}`,
    STREAM_PROCESSOR_RETRIES: '1',
    STREAM_PROCESSOR_BREAKER_RESET_MS: '1000',
    CDC_FRESHNESS_POLL_MS: '60000',
  });
  await until('the processor to be ready', async () => (await fetch(`${processor.url}/ready`)).ok || undefined, 300_000);
}, 320_000);

afterAll(async () => {
  await processor?.stop();
  await proxy.cut({ stop: true });
  await resumeStackProcessor();
  await Promise.allSettled([db.crm.end(), db.telemetry.end(), ch.close()]);
  await deleteTestGroups(kafkaAccess(env));
}, 120_000);

describe('stream processor under faults', () => {
  it('sends a poison message to the DLQ with where it came from, and processes the next ones', async () => {
    const producer = kafka.producer();
    await producer.connect();
    const marker = `poison-${randomUUID()}`;
    const [sent] = await producer.send({ topic: TOPIC, messages: [{ key: '{"id":-1}', value: `${marker} {not json` }] });
    await producer.disconnect();
    const after = await insertEvents(3);

    const consumer = kafka.consumer({ groupId: testGroupId('dlq-check') });
    await consumer.connect();
    await consumer.subscribe({ topic: `${TOPIC}.dlq`, fromBeginning: true });
    const dead = await new Promise<Record<string, string>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no DLQ message within 120 s')), 120_000);
      void consumer.run({
        eachMessage: async ({ message }) => {
          if (message.value?.toString().startsWith(marker)) {
            clearTimeout(timer);
            resolve(Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)])));
          }
        },
      });
    });
    await consumer.disconnect();
    expect(dead).toMatchObject({
      'dlq.source.topic': TOPIC,
      'dlq.source.partition': String(sent!.partition),
      'dlq.source.offset': sent!.baseOffset,
    });
    expect(dead['dlq.error']).toMatch(/not JSON/);
    await until('the events after the poison message', async () => (await enrichedCount(after)) === 3 || undefined, 120_000);
    const text = await (await fetch(`${processor.url}/metrics`)).text();
    expect(text).toMatch(/cdc_processor_messages_total\{topic="telemetry.public.telemetry_events",result="dlq",service="stream-processor"\} [1-9]/);
  }, 300_000);

  it('pauses while ClickHouse is down (circuit open, not ready) and loses nothing when it is back', async () => {
    await proxy.cut({ stop: true });
    const during = await insertEvents(500);
    await until('the circuit to open', async () => (await metric('cdc_processor_clickhouse_circuit_open')) === 1 || undefined, 120_000);
    expect((await fetch(`${processor.url}/ready`)).status).toBe(503);
    expect((await fetch(`${processor.url}/health`)).status).toBe(200);

    await proxy.start();
    await until('every event written during the outage', async () => (await enrichedCount(during)) === 500 || undefined, 180_000);
    await until('the circuit to close', async () => (await metric('cdc_processor_clickhouse_circuit_open')) === 0 || undefined, 60_000);
    expect((await fetch(`${processor.url}/ready`)).status).toBe(200);
    const failures = await (await fetch(`${processor.url}/metrics`)).text();
    expect(failures).toMatch(/cdc_processor_write_failures_total\{what="(insert|recompute)",service="stream-processor"\} [1-9]/);
  }, 400_000);
});
