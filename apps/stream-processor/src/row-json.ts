import type { EnrichedRow } from './enrich.js';

const str = (s: string): string => JSON.stringify(s);
const optStr = (s: string | null): string => (s === null ? 'null' : JSON.stringify(s));
// What JSON.stringify writes for a number (the decoder lets only finite ones through).
const num = (n: number): string => (Number.isFinite(n) ? String(n) : 'null');

/** One row of analytics.telemetry_enriched(_by_user) as a JSONEachRow line. */
function rowLine(r: EnrichedRow): string {
  return (
    `{"event_uuid":${str(r.event_uuid)},"id":${num(r.id)},"user_id":${num(r.user_id)},` +
    `"prosthesis_type":${str(r.prosthesis_type)},"muscle_group":${str(r.muscle_group)},` +
    `"signal_frequency":${num(r.signal_frequency)},"signal_duration":${num(r.signal_duration)},` +
    `"signal_amplitude":${num(r.signal_amplitude)},"event_timestamp":${str(r.event_timestamp)},` +
    `"request_id":${optStr(r.request_id)},"user_known":${r.user_known},"country":${optStr(r.country)},` +
    `"gender":${optStr(r.gender)},"age_band":${optStr(r.age_band)},"_lsn":${str(r._lsn)},` +
    `"_version":${str(r._version)},"_is_deleted":${r._is_deleted},` +
    `"_source_ts":"${new Date(r._source_ts).toISOString()}"}\n`
  );
}

/**
 * Rows as a JSONEachRow body, written field by field: the same rows go to two tables
 * and are encoded once for both, without the per-row copies a generic encoder makes.
 */
export function encodeRows(rows: readonly EnrichedRow[]): Buffer {
  let out = '';
  for (const r of rows) out += rowLine(r);
  return Buffer.from(out, 'utf8');
}
