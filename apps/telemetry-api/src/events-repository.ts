import type { WriteBy } from '@cdc/db/api-keys';
import type pg from 'pg';
import type { TelemetryEvent } from '@cdc/schemas';
import type { NewEvent } from './event-input.js';
import { sqlCanonicalInstant } from './instant.js';
import type { Payload } from './payload.js';

/**
 * telemetry_events through the pg pool, in plain SQL. Not Prisma: its DateTime is a
 * JS Date (milliseconds), which would drop the microseconds of event_timestamp, and
 * its createMany is several times slower than one unnest() INSERT on the batch path.
 */
export interface EventsRepository {
  /** Inserts the event unless its event_uuid exists; either way returns the stored row. */
  insertOrGet(event: NewEvent, by: WriteBy): Promise<{ inserted: boolean; stored: TelemetryEvent }>;
  /** Inserts the events whose event_uuid is new, in one statement; returns those uuids. */
  insertMany(events: readonly NewEvent[], by: WriteBy): Promise<Set<string>>;
  /** The stored payloads of these uuids (absent ones are simply missing from the map). */
  findPayloads(uuids: readonly string[]): Promise<Map<string, Payload & { event_uuid: string }>>;
  findByUuid(uuid: string): Promise<TelemetryEvent | undefined>;
}

const PAYLOAD_COLUMNS = `user_id, prosthesis_type, muscle_group, signal_frequency, signal_duration, signal_amplitude,
  ${sqlCanonicalInstant('event_timestamp')} AS event_timestamp`;

// id as text: int64 exceeds JS numbers; timestamps in the canonical form (instant.ts).
const EVENT_COLUMNS = `id::text AS id, event_uuid::text AS event_uuid, ${PAYLOAD_COLUMNS},
  ${sqlCanonicalInstant('saved_ts')} AS saved_ts`;

// request_id: the API request that stored the row, followed end to end by `npm run trace`.
const INSERT_COLUMNS = `event_uuid, user_id, prosthesis_type, muscle_group, signal_frequency, signal_duration,
  signal_amplitude, event_timestamp, request_id`;

// Every insert writes its audit entry (docs/security.md) in the same statement, as a
// data-modifying CTE: the rows and the entry commit together, with no extra round
// trip. The entry counts rows and names the request; it holds no values. $9 is the
// request id and $10 the key id in every statement below.
const AUDIT = (target: string, detail: string) =>
  `INSERT INTO auth.audit_log (key_id, request_id, action, target, detail)
   SELECT $10::text, $9::text, 'telemetry.insert', ${target}, ${detail} FROM ins`;

// Named statements are parsed and planned once per connection.
const INSERT_ONE = {
  name: 'telemetry_events_insert_one',
  text: `WITH ins AS (
           INSERT INTO telemetry_events (${INSERT_COLUMNS})
           VALUES ($1::uuid, $2::int4, $3, $4, $5::int4, $6::int4, $7::float8, $8::timestamptz, $9::text)
           ON CONFLICT (event_uuid) DO NOTHING
           RETURNING ${EVENT_COLUMNS}),
         audit AS (${AUDIT(`'telemetry_events/' || event_uuid`, `'{"events":1}'::jsonb`)})
         SELECT * FROM ins`,
};

// One statement for the whole batch, its rows as parallel arrays. The unnest()s sit
// in the select list rather than in FROM: they then advance in lockstep (the arrays
// have equal lengths) and stream rows, where FROM unnest(a, b, …) first copies all
// eight arrays into a tuplestore (measured: 54 instead of 66 ms of execution for
// 5,000 rows). The request id is one value for the whole batch, repeated per row.
const UNNEST_ROWS = `SELECT unnest($1::uuid[]), unnest($2::int4[]), unnest($3::text[]), unnest($4::text[]),
                unnest($5::int4[]), unnest($6::int4[]), unnest($7::float8[]), unnest($8::timestamptz[]), $9::text`;

// The common case, a batch of new events, as a plain INSERT: ON CONFLICT's
// speculative insertion probes the unique index once more per row, and the
// RETURNING list is not needed when every row goes in (measured for 5,000 rows:
// 55–68 ms plain, 83–110 ms with ON CONFLICT … RETURNING). A duplicate fails the
// whole statement, which then changes nothing, and the batch takes the path below.
const BATCH_AUDIT = AUDIT(`'telemetry_events'`, `jsonb_build_object('events', count(*))`) + ' HAVING count(*) > 0';

const INSERT_ALL = {
  name: 'telemetry_events_insert_all',
  text: `WITH ins AS (INSERT INTO telemetry_events (${INSERT_COLUMNS}) ${UNNEST_ROWS} RETURNING 1)
         ${BATCH_AUDIT}`,
};

const INSERT_NEW = {
  name: 'telemetry_events_insert_new',
  text: `WITH ins AS (
           INSERT INTO telemetry_events (${INSERT_COLUMNS}) ${UNNEST_ROWS}
           ON CONFLICT (event_uuid) DO NOTHING
           RETURNING event_uuid::text AS event_uuid),
         audit AS (${BATCH_AUDIT})
         SELECT event_uuid FROM ins`,
};

const UNIQUE_VIOLATION = '23505';

const FIND_ONE = {
  name: 'telemetry_events_find_one',
  text: `SELECT ${EVENT_COLUMNS} FROM telemetry_events WHERE event_uuid = $1::uuid`,
};

const FIND_PAYLOADS = {
  name: 'telemetry_events_find_payloads',
  text: `SELECT event_uuid::text AS event_uuid, ${PAYLOAD_COLUMNS} FROM telemetry_events WHERE event_uuid = ANY($1::uuid[])`,
};

/** The columns come out of SQL already in API form; this only fixes the shape. */
function toTelemetryEvent(row: TelemetryEvent): TelemetryEvent {
  return {
    id: row.id,
    event_uuid: row.event_uuid,
    user_id: row.user_id,
    prosthesis_type: row.prosthesis_type,
    muscle_group: row.muscle_group,
    signal_frequency: row.signal_frequency,
    signal_duration: row.signal_duration,
    signal_amplitude: row.signal_amplitude,
    event_timestamp: row.event_timestamp,
    saved_ts: row.saved_ts,
  };
}

function values(e: NewEvent, by: WriteBy): unknown[] {
  return [
    e.event_uuid,
    e.user_id,
    e.prosthesis_type,
    e.muscle_group,
    e.signal_frequency,
    e.signal_duration,
    e.signal_amplitude,
    e.event_timestamp,
    by.requestId,
    by.keyId,
  ];
}

/*
 * PostgreSQL array literals, built here rather than by pg's generic serializer
 * (which quotes and escapes every element; a measurable share of a 10,000-event
 * batch). uuids, numbers (String() of a finite number is exact and PostgreSQL
 * reads it back exactly) and canonical timestamps contain no character that needs
 * quoting; labels are quoted with \ and " escaped, the only two characters special
 * inside a quoted element (NUL cannot occur: event-input.ts rejects it).
 */
function plainArray(values: readonly (string | number)[]): string {
  return `{${values.join(',')}}`;
}

function textArray(values: readonly string[]): string {
  let out = '{';
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    out += `${i === 0 ? '' : ','}"${/["\\]/.test(v) ? v.replace(/["\\]/g, '\\$&') : v}"`;
  }
  return `${out}}`;
}

// Between "ON CONFLICT … DO NOTHING" and the read of the existing row, that row can
// be deleted; the insert is then simply tried again.
const ATTEMPTS = 3;

export function createEventsRepository(pool: pg.Pool): EventsRepository {
  async function findByUuid(uuid: string): Promise<TelemetryEvent | undefined> {
    const { rows } = await pool.query<TelemetryEvent>({ ...FIND_ONE, values: [uuid] });
    return rows[0] && toTelemetryEvent(rows[0]);
  }

  return {
    findByUuid,

    async insertOrGet(event, by) {
      for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
        const { rows } = await pool.query<TelemetryEvent>({ ...INSERT_ONE, values: values(event, by) });
        if (rows[0]) return { inserted: true, stored: toTelemetryEvent(rows[0]) };
        // A separate statement on purpose: it takes a new snapshot, which sees the
        // row a concurrent transaction committed while our INSERT waited on it.
        const stored = await findByUuid(event.event_uuid);
        if (stored) return { inserted: false, stored };
      }
      throw new Error(`event ${event.event_uuid}: neither inserted nor found after ${ATTEMPTS} attempts`);
    },

    async insertMany(events, by) {
      if (events.length === 0) return new Set();
      // One lock order for every batch: two batches inserting the same new uuids in
      // different orders would otherwise wait on each other's unique-index entries
      // and deadlock.
      const sorted = [...events].sort((a, b) => (a.event_uuid < b.event_uuid ? -1 : a.event_uuid > b.event_uuid ? 1 : 0));
      const n = sorted.length;
      const cols = [
        new Array<string>(n),
        new Array<number>(n),
        new Array<string>(n),
        new Array<string>(n),
        new Array<number>(n),
        new Array<number>(n),
        new Array<number>(n),
        new Array<string>(n),
      ] as const;
      for (let i = 0; i < n; i++) {
        const e = sorted[i]!;
        cols[0][i] = e.event_uuid;
        cols[1][i] = e.user_id;
        cols[2][i] = e.prosthesis_type;
        cols[3][i] = e.muscle_group;
        cols[4][i] = e.signal_frequency;
        cols[5][i] = e.signal_duration;
        cols[6][i] = e.signal_amplitude;
        cols[7][i] = e.event_timestamp;
      }
      const arrays = [
        plainArray(cols[0]),
        plainArray(cols[1]),
        textArray(cols[2]),
        textArray(cols[3]),
        plainArray(cols[4]),
        plainArray(cols[5]),
        plainArray(cols[6]),
        plainArray(cols[7]),
        by.requestId,
        by.keyId,
      ];
      try {
        await pool.query({ ...INSERT_ALL, values: arrays });
        return new Set(cols[0]);
      } catch (err) {
        if ((err as { code?: unknown }).code !== UNIQUE_VIOLATION) throw err;
      }
      const { rows } = await pool.query<string[]>({ ...INSERT_NEW, values: arrays, rowMode: 'array' });
      return new Set(rows.map((r) => r[0]!));
    },

    async findPayloads(uuids) {
      const found = new Map<string, Payload & { event_uuid: string }>();
      if (uuids.length === 0) return found;
      const { rows } = await pool.query<Payload & { event_uuid: string }>({ ...FIND_PAYLOADS, values: [uuids] });
      for (const row of rows) found.set(row.event_uuid, row);
      return found;
    },
  };
}
