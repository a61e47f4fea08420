import avsc from 'avsc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { createDecoder, PoisonMessage, TelemetryRow } from '../src/debezium.js';
import { startStandInRegistry, type StandInRegistry } from './stand-in-registry.js';

/**
 * The Avro path of the decoder against a stand-in registry: a Debezium envelope as Debezium's Avro converter
 * shapes it (nullable before/after records, a source record), in the Confluent wire
 * format. No registry runs natively here (KAFKA_DEBEZIUM_SETUP.md).
 */
const row = {
  type: 'record',
  name: 'Value',
  namespace: 'telemetry.public.telemetry_events',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'event_uuid', type: 'string' },
    { name: 'user_id', type: 'int' },
    { name: 'prosthesis_type', type: 'string' },
    { name: 'muscle_group', type: 'string' },
    { name: 'signal_frequency', type: 'int' },
    { name: 'signal_duration', type: 'int' },
    { name: 'signal_amplitude', type: 'double' },
    { name: 'event_timestamp', type: 'string' },
    { name: 'saved_ts', type: 'string' },
  ],
};
const envelope = {
  type: 'record',
  name: 'Envelope',
  namespace: 'telemetry.public.telemetry_events',
  fields: [
    { name: 'before', type: ['null', row], default: null },
    { name: 'after', type: ['null', 'Value'], default: null },
    { name: 'source', type: { type: 'record', name: 'Source', fields: [{ name: 'lsn', type: ['null', 'long'] }, { name: 'ts_ms', type: 'long' }] } },
    { name: 'op', type: 'string' },
  ],
};
const type = avsc.Type.forSchema(envelope as unknown as avsc.Schema);
const SCHEMA_ID = 42;
let standIn: StandInRegistry;
let registry: SchemaRegistry;

function wire(value: unknown, id = SCHEMA_ID): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt8(0, 0);
  header.writeUInt32BE(id, 1);
  return Buffer.concat([header, type.toBuffer(value)]);
}

beforeAll(async () => {
  standIn = await startStandInRegistry();
  standIn.preload(SCHEMA_ID, JSON.stringify(envelope));
  registry = new SchemaRegistry({ host: standIn.url });
});

afterAll(() => standIn.close());

describe('Avro change events (Confluent wire format)', () => {
  const after = {
    id: 9,
    event_uuid: '0d6f1a5e-3c2b-4f7e-9a8d-1b2c3d4e5f60',
    user_id: 42,
    prosthesis_type: 'bionic_arm',
    muscle_group: 'biceps',
    signal_frequency: 1000,
    signal_duration: 250,
    signal_amplitude: 0.731,
    event_timestamp: '2026-11-25T12:00:00.123456Z',
    saved_ts: '2026-11-25T12:00:01.000001Z',
  };

  it('are decoded through the registry into the same change events as JSON', async () => {
    const decoder = createDecoder(TelemetryRow, registry);
    const avro = await decoder.decode(wire({ before: null, after, source: { lsn: 123456, ts_ms: 1_795_000_000_000 }, op: 'c' }));
    const json = await decoder.decode(Buffer.from(JSON.stringify({ before: null, after, source: { lsn: 123456, ts_ms: 1_795_000_000_000 }, op: 'c' })));
    expect(avro).toEqual(json);
    expect(avro).toMatchObject({ op: 'c', lsn: 123456n, after: { user_id: 42, signal_amplitude: 0.731 } });
  });

  it('an unknown schema id or broken Avro bytes are poison, not a crash', async () => {
    const decoder = createDecoder(TelemetryRow, registry);
    await expect(decoder.decode(wire({ before: null, after, source: { lsn: 1, ts_ms: 1 }, op: 'c' }, 7))).rejects.toThrow(PoisonMessage);
    await expect(decoder.decode(Buffer.from([0, 0, 0, 0, SCHEMA_ID, 0xff, 0xff]))).rejects.toThrow(/Avro decoding failed/);
  });
});
