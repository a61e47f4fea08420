import type { ClickHouseClient } from '@clickhouse/client';
import type pg from 'pg';

/**
 * PostgreSQL source tables against their ClickHouse current state, row by row and
 * value by value. Both sides render each row the same way (uuid and timestamps as
 * text with microseconds in UTC; numbers as JSON numbers, which are exact for
 * float8/Float64 and the int sizes used), so equality of the JSON texts is
 * equality of the rows.
 */
export interface TableSpec {
  name: 'users' | 'telemetry_events';
  pgQuery: string;
  chQuery: string;
}

const PG_TS = (c: string) => `to_char(${c} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS ${c}`;
const CH_TS = (c: string) => `formatDateTime(${c}, '%Y-%m-%dT%H:%i:%S.%fZ') AS ${c}`;

export const USERS: TableSpec = {
  name: 'users',
  pgQuery: `SELECT id, user_uuid::text AS user_uuid, name, email, age, gender, country, address, phone,
                   ${PG_TS('registered_at')}
              FROM users`,
  chQuery: `SELECT id, toString(user_uuid) AS user_uuid, name, email, age, gender, country, address, phone,
                   ${CH_TS('registered_at')}
              FROM default.users FINAL`,
};

// ids as text: bigint exceeds JS numbers in general.
export const TELEMETRY_EVENTS: TableSpec = {
  name: 'telemetry_events',
  pgQuery: `SELECT id::text AS id, event_uuid::text AS event_uuid, user_id, prosthesis_type, muscle_group,
                   signal_frequency, signal_duration, signal_amplitude,
                   ${PG_TS('event_timestamp')}, ${PG_TS('saved_ts')}, request_id
              FROM telemetry_events`,
  chQuery: `SELECT toString(id) AS id, toString(event_uuid) AS event_uuid, user_id, prosthesis_type, muscle_group,
                   signal_frequency, signal_duration, signal_amplitude,
                   ${CH_TS('event_timestamp')}, ${CH_TS('saved_ts')}, request_id
              FROM default.telemetry_events FINAL`,
};

type Row = Record<string, unknown> & { id: string | number };

export interface TableDiff {
  table: string;
  postgresRows: number;
  clickhouseRows: number;
  missing: string[];
  extra: string[];
  different: { id: string; postgres: string; clickhouse: string }[];
}

export const isEqual = (d: TableDiff) => d.missing.length + d.extra.length + d.different.length === 0;

function keyed(rows: Row[]): Map<string, string> {
  return new Map(rows.map((r) => [String(r.id), JSON.stringify(r)]));
}

export async function diffTable(spec: TableSpec, pool: pg.Pool, ch: ClickHouseClient): Promise<TableDiff> {
  // ClickHouse is read second: whatever PostgreSQL committed before the first read
  // has had the longest possible time to arrive.
  const pgRows = (await pool.query<Row>(spec.pgQuery)).rows;
  const rs = await ch.query({
    query: spec.chQuery,
    format: 'JSONEachRow',
    clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
  });
  const chRows = await rs.json<Row>();
  const source = keyed(pgRows);
  const target = keyed(chRows);
  const diff: TableDiff = {
    table: spec.name,
    postgresRows: source.size,
    clickhouseRows: target.size,
    missing: [],
    extra: [],
    different: [],
  };
  for (const [id, row] of source) {
    const other = target.get(id);
    if (other === undefined) diff.missing.push(id);
    else if (other !== row) diff.different.push({ id, postgres: row, clickhouse: other });
  }
  for (const id of target.keys()) if (!source.has(id)) diff.extra.push(id);
  return diff;
}

/** Compares until equal or the deadline passes; the last comparison either way. */
export async function waitForEquality(
  spec: TableSpec,
  pool: pg.Pool,
  ch: ClickHouseClient,
  timeoutMs: number,
): Promise<TableDiff> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const diff = await diffTable(spec, pool, ch);
    if (isEqual(diff) || Date.now() > deadline) return diff;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

export function describeDiff(d: TableDiff, sample = 5): string {
  return (
    `${d.table}: PostgreSQL ${d.postgresRows} rows, ClickHouse ${d.clickhouseRows} rows; ` +
    `${d.missing.length} missing, ${d.extra.length} extra, ${d.different.length} different` +
    (d.missing.length ? `\n  missing ids: ${d.missing.slice(0, sample).join(', ')}` : '') +
    (d.extra.length ? `\n  extra ids: ${d.extra.slice(0, sample).join(', ')}` : '') +
    d.different
      .slice(0, sample)
      .map((x) => `\n  id ${x.id}\n    postgres:   ${x.postgres}\n    clickhouse: ${x.clickhouse}`)
      .join('')
  );
}
