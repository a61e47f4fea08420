import { readFileSync } from 'node:fs';
import type { Producer } from 'kafkajs';
import { SchemaType, type SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { UTC_TIMESTAMP } from './debezium.js';
import { bySize } from './request-size.js';
import type { EnrichedRow } from './enrich.js';

/** The record schema of the output topic; the file is the contract for its readers. */
export const ENRICHED_SCHEMA = readFileSync(new URL('../schemas/telemetry_enriched.avsc', import.meta.url), 'utf8');

/** One record of the output topic, as telemetry_enriched.avsc describes it. */
export interface EnrichedRecord {
  event_uuid: string;
  id: number;
  user_id: number;
  prosthesis_type: string;
  muscle_group: string;
  signal_frequency: number;
  signal_duration: number;
  signal_amplitude: number;
  event_timestamp: number | bigint;
  request_id: string | null;
  user_known: boolean;
  country: string | null;
  gender: string | null;
  age_band: string | null;
  deleted: boolean;
  lsn: number;
  source_ts: number;
}

/**
 * Microseconds since the epoch of a UTC timestamp as Debezium writes it
 * (`2026-11-25T12:00:00.123456Z`) or ClickHouse returns it (`2026-11-25 12:00:00.123456`).
 * Date keeps milliseconds only, so the fraction is read separately. A number while
 * exact, a bigint beyond 2^53 µs (after the year 2255: PostgreSQL and the API take
 * such dates, and the Avro long carries them).
 */
export function toEpochMicros(timestamp: string): number | bigint {
  const m = UTC_TIMESTAMP.exec(timestamp);
  const seconds = m ? Date.parse(`${m[1]}T${m[2]}Z`) / 1000 : NaN;
  if (!m || Number.isNaN(seconds)) throw new Error(`not a UTC timestamp: ${timestamp}`);
  const fraction = (m[3] ?? '').padEnd(6, '0').slice(0, 6);
  // In numbers while exact (every date before 2255): BigInt costs more than the rest.
  const fast = seconds * 1_000_000 + Number(fraction);
  if (Number.isSafeInteger(fast)) return fast;
  return BigInt(seconds) * 1_000_000n + BigInt(fraction);
}

export function toRecord(row: EnrichedRow): EnrichedRecord {
  const lsn = Number(row._lsn);
  // An Avro long read into a JS number: exact up to 2^53, i.e. 8 PiB of WAL.
  if (!Number.isSafeInteger(lsn)) throw new Error(`LSN ${row._lsn} of event ${row.event_uuid} exceeds 2^53`);
  return {
    event_uuid: row.event_uuid,
    id: row.id,
    user_id: row.user_id,
    prosthesis_type: row.prosthesis_type,
    muscle_group: row.muscle_group,
    signal_frequency: row.signal_frequency,
    signal_duration: row.signal_duration,
    signal_amplitude: row.signal_amplitude,
    event_timestamp: toEpochMicros(row.event_timestamp),
    request_id: row.request_id,
    user_known: row.user_known === 1,
    country: row.country,
    gender: row.gender,
    age_band: row.age_band,
    deleted: row._is_deleted === 1,
    lsn,
    source_ts: row._source_ts,
  };
}

// kafkajs groups a send's messages by partition in time quadratic in their number
// (groupMessagesPerPartition copies the list per message), so sends are sliced; but
// every send is a round trip to the broker (one in flight: the producer is idempotent),
// and 2,000 records cost about 2 ms of grouping against a round trip of tens of ms.
export const PUBLISH_SLICE = 2_000;

export interface EnrichedTopic {
  readonly topic: string;
  /** Writes the records in order (per event, the order of its changes) with acks from all replicas. */
  publish(rows: EnrichedRow[]): Promise<void>;
}

/**
 * The output topic in Avro: the schema is registered under `<topic>-value` (Confluent
 * TopicNameStrategy) once at start, so a schema the registry's compatibility rules
 * refuse stops the processor before it writes anything. Keys are the event uuid as a
 * string, so one event's records stay in one partition, in order.
 */
export async function createEnrichedTopic(producer: Producer, registry: SchemaRegistry, topic: string): Promise<EnrichedTopic> {
  const subject = `${topic}-value`;
  let id: number;
  try {
    ({ id } = await registry.register({ type: SchemaType.AVRO, schema: ENRICHED_SCHEMA }, { subject }));
  } catch (err) {
    throw new Error(`registering the schema of ${topic} under subject ${subject} failed: ${(err as Error).message}`, { cause: err });
  }
  return {
    topic,
    async publish(rows) {
      // In slices: a chunk can hold 20,000 rows, and encoding them all before one send
      // would hold every buffer at once (the processor's memory budget is 256 MB).
      for (let i = 0; i < rows.length; i += PUBLISH_SLICE) {
        const messages = await Promise.all(
          rows.slice(i, i + PUBLISH_SLICE).map(async (row) => ({ key: row.event_uuid, value: await registry.encode(id, toRecord(row)) })),
        );
        // …and each request under the broker's 1 MiB limit (labels can be long).
        for (const slice of bySize(messages, (m) => m.value.length + m.key.length + 64)) await producer.send({ topic, acks: -1, messages: slice });
      }
    },
  };
}
