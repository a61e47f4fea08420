import type { Message, Producer, ProducerRecord } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { createSchemaRegistry } from '@cdc/kafka';
import { emptyEnriched, emptyTouched, enrichChange } from '../src/enrich.js';
import { createEnrichedTopic, PUBLISH_SLICE, toEpochMicros, toRecord } from '../src/enriched-topic.js';
import { change, event } from './fixtures.js';
import { startStandInRegistry, type StandInRegistry } from './stand-in-registry.js';

const dims = { country: 'UA', gender: 'female', age_band: '25-34' };

describe('records of the output topic', () => {
  it('timestamps keep their microseconds, from Debezium and from ClickHouse', () => {
    expect(toEpochMicros('2026-11-25T12:34:56.123456Z')).toBe(Date.UTC(2026, 10, 25, 12, 34, 56) * 1000 + 123_456);
    expect(toEpochMicros('2026-11-25 12:34:56.123456')).toBe(toEpochMicros('2026-11-25T12:34:56.123456Z'));
    expect(toEpochMicros('2026-11-25T12:34:56Z')).toBe(Date.UTC(2026, 10, 25, 12, 34, 56) * 1000);
    expect(toEpochMicros('2026-11-25T12:34:56.1Z')).toBe(Date.UTC(2026, 10, 25, 12, 34, 56) * 1000 + 100_000);
    // Far dates (PostgreSQL and the API accept them) stay exact as bigints.
    expect(toEpochMicros('5786-07-04T01:02:03.123456Z')).toBe(BigInt(Date.UTC(5786, 6, 4, 1, 2, 3)) * 1000n + 123_456n);
    expect(toEpochMicros('1970-01-01T00:00:00.000001Z')).toBe(1);
    expect(toEpochMicros('1969-12-31T23:59:59.999999Z')).toBe(-1);
    expect(() => toEpochMicros('2026-11-25T12:34:56+02:00')).toThrow(/not a UTC timestamp/);
    expect(() => toEpochMicros('yesterday')).toThrow(/not a UTC timestamp/);
  });

  it('one record per change, in the order of the changes, deletes and uuid moves included', () => {
    const out = emptyEnriched();
    const t = emptyTouched();
    const moved = event({ event_uuid: '11111111-2222-4333-8444-555555555555' });
    enrichChange(change('c', null, event(), 10n), () => undefined, t, out);
    enrichChange(change('u', event(), moved, 20n), () => dims, t, out);
    enrichChange(change('d', moved, null, 30n), () => dims, t, out);
    enrichChange(change('c', null, event({ signal_amplitude: 0.9 }), 40n), () => dims, t, out);
    expect(out.changes.map((r) => [r.event_uuid.slice(0, 4), r._lsn, r._is_deleted, r.user_known])).toEqual([
      ['0d6f', '10', 0, 0],
      ['0d6f', '20', 1, 0], // the old uuid is gone
      ['1111', '20', 0, 1],
      ['1111', '30', 1, 0],
      ['0d6f', '40', 0, 1],
    ]);
    const last = toRecord(out.changes[4]!);
    expect(last).toMatchObject({ deleted: false, user_known: true, country: 'UA', lsn: 40, signal_amplitude: 0.9 });
    expect(last.event_timestamp).toBe(toEpochMicros('2026-11-25T12:34:56.123456Z'));
  });

  it('an LSN beyond 2^53 is refused rather than rounded', () => {
    const out = emptyEnriched();
    enrichChange(change('c', null, event(), 2n ** 53n + 1n), () => dims, emptyTouched(), out);
    expect(() => toRecord(out.changes[0]!)).toThrow(/exceeds 2\^53/);
  });
});

describe('the Avro output topic', () => {
  let standIn: StandInRegistry;
  let registry: SchemaRegistry;
  beforeAll(async () => {
    standIn = await startStandInRegistry();
    registry = createSchemaRegistry(standIn.url);
  });
  afterAll(() => standIn.close());

  it('registers its schema under <topic>-value and writes decodable records keyed by uuid', async () => {
    const sent: ProducerRecord[] = [];
    const producer = { send: async (r: ProducerRecord) => void sent.push(r) } as unknown as Producer;
    const topic = await createEnrichedTopic(producer, registry, 'analytics.telemetry_enriched');
    expect(standIn.subjects.get('analytics.telemetry_enriched-value')).toHaveLength(1);

    const out = emptyEnriched();
    enrichChange(change('c', null, event(), 10n), () => dims, emptyTouched(), out);
    enrichChange(change('c', null, event({ event_uuid: '11111111-2222-4333-8444-555555555555', user_id: 5 }), 11n), () => undefined, emptyTouched(), out);
    await topic.publish(out.changes);
    await topic.publish([]);

    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ topic: 'analytics.telemetry_enriched', acks: -1 });
    const messages = sent[0]!.messages as Message[];
    expect(messages.map((m) => m.key)).toEqual(['0d6f1a5e-3c2b-4f7e-9a8d-1b2c3d4e5f60', '11111111-2222-4333-8444-555555555555']);
    const decoded = await Promise.all(messages.map((m) => registry.decode(m.value as Buffer)));
    expect(decoded).toEqual(out.changes.map(toRecord));
    expect(decoded[1]).toMatchObject({ user_known: false, country: null, user_id: 5 });
  });

  it('encodes an event dated far in the future (µs beyond 2^53) and reads it back exactly', async () => {
    const sent: ProducerRecord[] = [];
    const producer = { send: async (r: ProducerRecord) => void sent.push(r) } as unknown as Producer;
    const topic = await createEnrichedTopic(producer, registry, 'analytics.telemetry_enriched');
    const out = emptyEnriched();
    enrichChange(change('c', null, event({ event_timestamp: '5786-07-04T01:02:03.123456Z' }), 10n), () => dims, emptyTouched(), out);
    await topic.publish(out.changes);
    const decoded = (await registry.decode(sent[0]!.messages[0]!.value as Buffer)) as { event_timestamp: bigint };
    expect(decoded.event_timestamp).toBe(toEpochMicros('5786-07-04T01:02:03.123456Z'));
  });

  it('writes a large chunk in bounded sends, keeping the order', async () => {
    const sent: ProducerRecord[] = [];
    const producer = { send: async (r: ProducerRecord) => void sent.push(r) } as unknown as Producer;
    const topic = await createEnrichedTopic(producer, registry, 'analytics.telemetry_enriched');
    const out = emptyEnriched();
    for (let i = 0; i < 4_500; i++) enrichChange(change('c', null, event({ id: i }), BigInt(100 + i)), () => dims, emptyTouched(), out);
    await topic.publish(out.changes);
    expect(sent.map((r) => r.messages.length)).toEqual([...Array<number>(Math.floor(4_500 / PUBLISH_SLICE)).fill(PUBLISH_SLICE), ...(4_500 % PUBLISH_SLICE ? [4_500 % PUBLISH_SLICE] : [])]);
    expect(sent.length).toBeGreaterThan(1);
    const ids = await Promise.all(sent.flatMap((r) => r.messages).map(async (m) => ((await registry.decode(m.value as Buffer)) as { id: number }).id));
    expect(ids).toEqual(Array.from({ length: 4_500 }, (_, i) => i));
  });

  it('a registry that refuses the schema stops it before anything is written', async () => {
    const producer = { send: async () => { throw new Error('must not send'); } } as unknown as Producer;
    const nowhere = createSchemaRegistry('http://127.0.0.1:9');
    await expect(createEnrichedTopic(producer, nowhere, 'analytics.telemetry_enriched')).rejects.toThrow(
      /registering the schema of analytics.telemetry_enriched under subject analytics.telemetry_enriched-value failed/,
    );
  });
});
