import type { ChangeEvent, TelemetryRow } from './debezium.js';
import type { UserDims } from './users-dimension.js';

/** A row of analytics.telemetry_enriched (clickhouse/0007_analytics.sql). */
export interface EnrichedRow {
  event_uuid: string;
  id: number;
  user_id: number;
  prosthesis_type: string;
  muscle_group: string;
  signal_frequency: number;
  signal_duration: number;
  signal_amplitude: number;
  event_timestamp: string;
  request_id: string | null;
  user_known: 0 | 1;
  country: string | null;
  gender: string | null;
  age_band: string | null;
  _lsn: string;
  _version: string;
  _is_deleted: 0 | 1;
  _source_ts: number;
}

/** The aggregate keys a change touches: where the event was, and where it is now. */
export interface Touched {
  minutes: Map<string, { minute: number; prosthesis_type: string; muscle_group: string }>;
  users: Set<number>;
  /** Users the batch saw without knowing them: candidates for re-enrichment. */
  unknownUsers: Set<number>;
}

export function emptyTouched(): Touched {
  return { minutes: new Map(), users: new Set(), unknownUsers: new Set() };
}

/** Start of the minute, in seconds since the epoch (ClickHouse DateTime). */
export function minuteOf(isoTimestamp: string): number {
  const ms = Date.parse(isoTimestamp);
  if (Number.isNaN(ms)) throw new Error(`not a timestamp: ${isoTimestamp}`);
  return Math.floor(ms / 60_000) * 60;
}

function touch(t: Touched, row: TelemetryRow): void {
  const minute = minuteOf(row.event_timestamp);
  t.minutes.set(`${minute}|${row.prosthesis_type}|${row.muscle_group}`, {
    minute,
    prosthesis_type: row.prosthesis_type,
    muscle_group: row.muscle_group,
  });
  t.users.add(row.user_id);
}

/**
 * How a row of `change` is versioned (see 0007_analytics.sql and 0011): the change's
 * state, where knowing the user wins; or a key the change moved the event away from,
 * one below the change's state, so that in a table where that key did not move the
 * event's new row wins over it.
 */
type Kind = { dims: UserDims | undefined } | 'deleted' | 'left';

function toRow(row: TelemetryRow, change: ChangeEvent<TelemetryRow>, kind: Kind): EnrichedRow {
  const dims = typeof kind === 'object' ? kind.dims : undefined;
  const known = dims !== undefined;
  return {
    event_uuid: row.event_uuid,
    id: row.id,
    user_id: row.user_id,
    prosthesis_type: row.prosthesis_type,
    muscle_group: row.muscle_group,
    signal_frequency: row.signal_frequency,
    signal_duration: row.signal_duration,
    signal_amplitude: row.signal_amplitude,
    event_timestamp: row.event_timestamp,
    request_id: row.request_id ?? null,
    user_known: known ? 1 : 0,
    country: known ? dims.country : null,
    gender: known ? dims.gender : null,
    age_band: known ? dims.age_band : null,
    _lsn: change.lsn.toString(),
    // A later change wins (its LSN is higher by a whole WAL record, so even its left
    // keys outrank every version of an earlier change); within one change, knowing
    // the user wins, and a left key loses.
    _version: (change.lsn * 2n + (kind === 'left' ? -1n : known ? 1n : 0n)).toString(),
    _is_deleted: typeof kind === 'object' ? 0 : 1,
    _source_ts: change.sourceTsMs,
  };
}

/**
 * What one change writes into analytics.telemetry_enriched (and through its view into
 * telemetry_enriched_by_user): the event's row, and deleted rows under keys it left.
 */
export interface Enriched {
  /** The current state of events. */
  rows: EnrichedRow[];
  /** Deleted rows: a deleted event, or the old keys of an event an update moved. */
  tombstones: EnrichedRow[];
  /**
   * Per event uuid, its state after each change, in the order of the changes (the
   * output topic's records): a deleted row for a delete, or for the old uuid of an
   * update that changed it.
   */
  changes: EnrichedRow[];
}

export function emptyEnriched(): Enriched {
  return { rows: [], tombstones: [], changes: [] };
}

const minuteKey = (r: TelemetryRow) => `${minuteOf(r.event_timestamp)}|${r.prosthesis_type}|${r.muscle_group}|${r.event_uuid}`;
const userKey = (r: TelemetryRow) => `${r.user_id}|${r.event_uuid}`;

/**
 * One change → what to write into `out`, and the keys it touches. A delete writes a
 * deleted row under the event's keys. An update that moved the event (to another
 * minute, type, muscle group, user or uuid — possible in SQL) also writes its old
 * state as a deleted row, versioned below the new row: in each table it deletes the
 * old key if that key moved, and loses to the new row if it did not.
 */
export function enrichChange(
  change: ChangeEvent<TelemetryRow>,
  lookup: (userId: number) => UserDims | undefined,
  touched: Touched,
  out: Enriched,
): void {
  const before = change.before;
  if (before) touch(touched, before);
  if (change.op === 'd') {
    const gone = toRow(before!, change, 'deleted');
    out.tombstones.push(gone);
    out.changes.push(gone);
    return;
  }
  const after = change.after!;
  touch(touched, after);
  if (before && (minuteKey(before) !== minuteKey(after) || userKey(before) !== userKey(after))) {
    const left = toRow(before, change, 'left');
    out.tombstones.push(left);
    if (before.event_uuid !== after.event_uuid) out.changes.push(left);
  }
  const dims = lookup(after.user_id);
  if (!dims) touched.unknownUsers.add(after.user_id);
  const row = toRow(after, change, { dims });
  out.rows.push(row);
  out.changes.push(row);
}
