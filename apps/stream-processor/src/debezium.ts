import { z } from 'zod';
import { LIMITS } from '@cdc/schemas';
import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';

/**
 * A Debezium change event as the connectors write it (connectors/*.json: JSON
 * without embedded schemas) or, when a connector uses an Avro converter, in the
 * Confluent wire format: magic byte 0, a 4-byte schema id, the Avro body. Which one
 * is decided per message by its bytes, so a topic can switch format without a
 * restart.
 */
export type Op = 'r' | 'c' | 'u' | 'd';

export interface ChangeEvent<Row> {
  op: Op;
  before: Row | null;
  after: Row | null;
  lsn: bigint;
  /** Commit time in PostgreSQL, ms since the epoch. */
  sourceTsMs: number;
}

/** A message that can never be processed: it goes to the dead-letter topic. */
export class PoisonMessage extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PoisonMessage';
  }
}

// LSN 0 and fractional times are refused, as ClickHouse's path refuses them (and a
// fractional ts_ms could not be an Avro timestamp-millis downstream).
const Source = z
  .object({ lsn: z.union([z.number().int().positive(), z.string().regex(/^[1-9]\d*$/)]), ts_ms: z.number().int().nonnegative() })
  .loose();

function envelope<Row extends z.ZodType>(row: Row) {
  return z
    .object({
      op: z.enum(['r', 'c', 'u', 'd']),
      before: row.nullable().optional(),
      after: row.nullable().optional(),
      source: Source,
    })
    .loose()
    .refine((e) => (e.op === 'd' ? e.before != null : e.after != null), {
      message: 'a delete needs `before`, any other change `after`',
    });
}

/** The user id of a tombstone's key (`{"id":42}`); anything else is poison. */
export function tombstoneUserId(key: Buffer | null): number {
  let parsed: unknown;
  try {
    parsed = JSON.parse(key?.toString('utf8') ?? '');
  } catch {
    throw new PoisonMessage('a tombstone whose key is not JSON');
  }
  const id = (parsed as { id?: unknown } | null)?.id;
  if (typeof id !== 'number' || !Number.isSafeInteger(id)) throw new PoisonMessage('a tombstone whose key has no integer id');
  return id;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function isConfluentWireFormat(value: Buffer): boolean {
  return value.length > 5 && value[0] === 0;
}

export interface Decoder<Row> {
  /** null for a tombstone (nothing to do); throws PoisonMessage for anything unusable. */
  decode(value: Buffer | null): Promise<ChangeEvent<Row> | null>;
}

export function createDecoder<Row extends z.ZodType>(row: Row, registry?: SchemaRegistry): Decoder<z.infer<Row>> {
  const schema = envelope(row);
  return {
    async decode(value) {
      if (value === null || value.length === 0) return null;
      let parsed: unknown;
      if (isConfluentWireFormat(value)) {
        if (!registry) throw new PoisonMessage('Avro (Confluent wire format) message, but no SCHEMA_REGISTRY_URL is configured');
        try {
          // avsc returns record instances (methods on their prototypes); the rest of
          // the pipeline wants the plain values a JSON message would have given. Longs
          // beyond 2^53 (source.ts_ns) come as bigints and go on as digit strings.
          parsed = JSON.parse(JSON.stringify(await registry.decode(value), (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)));
        } catch (err) {
          throw new PoisonMessage(`Avro decoding failed: ${(err as Error).message}`);
        }
      } else {
        try {
          // JSON is UTF-8 by definition (RFC 8259). Buffer#toString would turn invalid
          // bytes into U+FFFD and store altered text; ClickHouse's parser refuses the
          // whole message, and so does this.
          parsed = JSON.parse(UTF8.decode(value));
        } catch (err) {
          throw new PoisonMessage(`not JSON: ${(err as Error).message}`);
        }
      }
      const checked = schema.safeParse(parsed);
      if (!checked.success) throw new PoisonMessage(`not a Debezium change event: ${z.prettifyError(checked.error)}`);
      const e = checked.data;
      return {
        op: e.op,
        before: (e.before ?? null) as z.infer<Row> | null,
        after: (e.after ?? null) as z.infer<Row> | null,
        lsn: BigInt(e.source.lsn),
        sourceTsMs: e.source.ts_ms,
      };
    },
  };
}

/**
 * A UTC timestamp with a four-digit year, as Debezium's ZonedTimestamp writes one
 * (ISO 8601, up to microseconds) and ClickHouse prints one. Anything else (a year
 * beyond 9999, before year 1) is refused here, as ClickHouse's parse refuses it, so
 * both paths put such an event aside instead of one of them stalling on it later.
 */
export const UTC_TIMESTAMP = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]00:?00)?$/;
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * A real calendar instant: Date.parse would take 2026-02-30 for March 2; ClickHouse
 * refuses it. Checked by arithmetic (it runs twice per event); year 0 counts as a
 * common year, as it always has here.
 */
export function isUtcTimestamp(s: string): boolean {
  const m = UTC_TIMESTAMP.exec(s);
  if (!m) return false;
  const date = m[1]!;
  const time = m[2]!;
  const y = Number(date.slice(0, 4));
  const mo = Number(date.slice(5, 7));
  const d = Number(date.slice(8, 10));
  if (mo < 1 || mo > 12 || d < 1) return false;
  if (Number(time.slice(0, 2)) > 23 || Number(time.slice(3, 5)) > 59 || Number(time.slice(6, 8)) > 59) return false;
  const leap = y !== 0 && y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  return d <= (mo === 2 && leap ? 29 : DAYS_IN_MONTH[mo - 1]!);
}
const utcTimestamp = z.string().refine(isUtcTimestamp, { message: 'not a UTC timestamp with a four-digit year' });

// Row images. Timestamps are Debezium's ZonedTimestamp strings (ISO 8601, UTC, up to
// microseconds); with Avro they arrive as the same strings.
// The column types of the analytics tables (Int32, Int64): a value outside would make
// ClickHouse refuse the whole insert, and the batch would stall instead of one
// message going to the dead letters.
const int32 = z.number().int().min(-(2 ** 31)).max(2 ** 31 - 1);

// Required fields match what ClickHouse's Kafka-engine path requires
// (clickhouse/0004, 0005), so the two consumers agree on what is poison.
export const UserRow = z
  .object({
    id: int32,
    user_uuid: z.uuid(),
    // The PostgreSQL column sizes: a change beyond them did not come from that table.
    name: z.string().max(LIMITS.nameLength),
    email: z.string().max(LIMITS.emailLength),
    registered_at: utcTimestamp,
    age: z.number().int().min(0).max(LIMITS.maxAge).nullable().optional(),
    gender: z.string().max(LIMITS.genderLength).nullable().optional(),
    country: z.string().max(LIMITS.countryLength).nullable().optional(),
  })
  .loose();
export type UserRow = z.infer<typeof UserRow>;


export const TelemetryRow = z
  .object({
    id: z.number().int().min(Number.MIN_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER),
    event_uuid: z.uuid(),
    user_id: int32,
    prosthesis_type: z.string().max(LIMITS.labelLength),
    muscle_group: z.string().max(LIMITS.labelLength),
    signal_frequency: int32,
    signal_duration: int32,
    signal_amplitude: z.number(),
    event_timestamp: utcTimestamp,
    saved_ts: utcTimestamp,
    // The Telemetry API request that stored the event (absent before it existed).
    request_id: z.string().nullable().optional(),
  })
  .loose();
export type TelemetryRow = z.infer<typeof TelemetryRow>;
