import { z } from 'zod';
import { IncomingTelemetryEvent, IncomingUser, TELEMETRY_PAYLOAD_FIELDS, USER_INPUT_FIELDS } from '@cdc/schemas';
import { mapTelemetryRow, mapUserRow, type CsvRecord, type FieldIssue } from './mappers.js';
import { numberArray, plainArray, textArray } from './pg-array.js';
import { deriveEventUuid } from './uuid-v5.js';

export type Kind = 'users' | 'telemetry';
export const KINDS: readonly Kind[] = ['users', 'telemetry'];

/**
 * Everything that differs between the two imports: the columns, the row mapper, the
 * shared schema, the idempotency key and the bulk INSERT.
 */
export interface KindSpec<T> {
  kind: Kind;
  /** Human name of the file in messages. */
  label: string;
  /** Every column the import understands, in the documented order. */
  columns: readonly string[];
  /** Columns the header must have (the schema's required fields). */
  required: readonly string[];
  map(rec: CsvRecord): { input: Record<string, unknown>; issues: FieldIssue[] };
  schema: z.ZodType<unknown>;
  /** After validation: the value to insert (telemetry derives missing event_uuids here). */
  finalize(parsed: unknown): T;
  /** The idempotency key as the database returns it from RETURNING. */
  key(value: T): string;
  /** INSERT … SELECT FROM unnest($1…$n) ON CONFLICT (key) DO NOTHING RETURNING key AS k */
  sql: string;
  /** The unnest parameters, in $1…$n order: PostgreSQL array literals (see pg-array.ts). */
  toParams(values: readonly T[]): string[];
}

/**
 * IncomingUser plus the one column a historical import may carry: registered_at. Every
 * other rule (trim, lower-cased e-mail, lengths, age 0–150, unknown keys refused) is
 * IncomingUser's own. The timestamp rule is IncomingTelemetryEvent's event_timestamp rule.
 */
export const UserCsvRow = IncomingUser.extend({
  registered_at: z.iso.datetime({ offset: true }).nullable().optional(),
});
export type UserCsvRow = z.infer<typeof UserCsvRow>;

export type TelemetryCsvRow = z.infer<typeof IncomingTelemetryEvent> & { event_uuid: string };

export const usersSpec: KindSpec<UserCsvRow> = {
  kind: 'users',
  label: 'crm.csv (users)',
  columns: [...USER_INPUT_FIELDS, 'registered_at'],
  required: ['name', 'email'],
  map: mapUserRow,
  schema: UserCsvRow,
  finalize: (v) => v as UserCsvRow,
  key: (v) => v.email,
  sql: `INSERT INTO users (name, email, age, gender, country, address, phone, registered_at)
SELECT t.name, t.email, t.age, t.gender, t.country, t.address, t.phone, COALESCE(t.registered_at, now())
FROM unnest($1::text[], $2::text[], $3::smallint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::timestamptz[])
  AS t(name, email, age, gender, country, address, phone, registered_at)
ON CONFLICT (email) DO NOTHING
RETURNING email AS k`,
  toParams: (values) => [
    textArray(values, (v) => v.name),
    textArray(values, (v) => v.email),
    numberArray(values, (v) => v.age),
    textArray(values, (v) => v.gender),
    textArray(values, (v) => v.country),
    textArray(values, (v) => v.address),
    textArray(values, (v) => v.phone),
    plainArray(values, (v) => v.registered_at), // validated ISO 8601: nothing to quote
  ],
};

export const telemetrySpec: KindSpec<TelemetryCsvRow> = {
  kind: 'telemetry',
  label: 'signal_samples.csv (telemetry)',
  columns: ['event_uuid', ...TELEMETRY_PAYLOAD_FIELDS],
  required: [...TELEMETRY_PAYLOAD_FIELDS],
  map: mapTelemetryRow,
  schema: IncomingTelemetryEvent,
  finalize(parsed) {
    // safeParse returned a fresh object: complete it in place.
    const e = parsed as z.infer<typeof IncomingTelemetryEvent>;
    // PostgreSQL returns uuids lower-case: the key must compare equal to RETURNING's.
    e.event_uuid = e.event_uuid ? e.event_uuid.toLowerCase() : deriveEventUuid(e);
    return e as TelemetryCsvRow;
  },
  key: (v) => v.event_uuid,
  sql: `INSERT INTO telemetry_events
  (event_uuid, user_id, prosthesis_type, muscle_group, signal_frequency, signal_duration, signal_amplitude, event_timestamp)
SELECT * FROM unnest($1::uuid[], $2::int[], $3::text[], $4::text[], $5::int[], $6::int[], $7::float8[], $8::timestamptz[])
ON CONFLICT (event_uuid) DO NOTHING
RETURNING event_uuid::text AS k`,
  toParams: (values) => [
    plainArray(values, (v) => v.event_uuid), // validated / derived UUIDs
    numberArray(values, (v) => v.user_id),
    textArray(values, (v) => v.prosthesis_type),
    textArray(values, (v) => v.muscle_group),
    numberArray(values, (v) => v.signal_frequency),
    numberArray(values, (v) => v.signal_duration),
    numberArray(values, (v) => v.signal_amplitude),
    plainArray(values, (v) => v.event_timestamp), // validated ISO 8601
  ],
};

export function specFor(kind: Kind): KindSpec<UserCsvRow> | KindSpec<TelemetryCsvRow> {
  return kind === 'users' ? usersSpec : telemetrySpec;
}

export type RowVerdict<T> = { ok: true; value: T } | { ok: false; issues: FieldIssue[] };

/**
 * Mapper + shared schema. Every problem of the row is reported: the mapper's
 * (empty required cell, "12abc"), then the schema's for the other fields, in column
 * order. A field the mapper already faulted is not reported twice.
 */
export function validateRow<T>(spec: KindSpec<T>, rec: CsvRecord): RowVerdict<T> {
  const mapped = spec.map(rec);
  const result = spec.schema.safeParse(mapped.input);
  if (result.success && mapped.issues.length === 0) {
    try {
      return { ok: true, value: spec.finalize(result.data) };
    } catch (err) {
      return { ok: false, issues: [{ field: '(row)', message: (err as Error).message }] };
    }
  }
  const issues = [...mapped.issues];
  if (!result.success) {
    const faulted = new Set(mapped.issues.map((i) => i.field));
    for (const i of result.error.issues) {
      const field = i.path.length > 0 ? i.path.map(String).join('.') : '(row)';
      if (!faulted.has(String(i.path[0]))) issues.push({ field, message: i.message });
    }
  }
  const order = (f: string) => {
    const k = spec.columns.indexOf(f.split('.')[0]!);
    return k === -1 ? spec.columns.length : k;
  };
  issues.sort((a, b) => order(a.field) - order(b.field));
  return { ok: false, issues };
}

export const formatIssues = (issues: readonly FieldIssue[]): string =>
  issues.map((i) => `${i.field}: ${i.message}`).join('; ');
