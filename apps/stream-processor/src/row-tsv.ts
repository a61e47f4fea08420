import { UTC_TIMESTAMP } from './debezium.js';
import type { EnrichedRow } from './enrich.js';

/**
 * Rows of analytics.telemetry_enriched(_by_user) as a TabSeparated body, in the
 * column order of ROW_COLUMNS.
 *
 * Why TabSeparated and not JSONEachRow: the processor's inserts are the longest step
 * of its pipeline, and ClickHouse parses this format in about 60% of the time it takes
 * for JSON with best-effort timestamps (docs/benchmarks.md, "Stream processor"). The
 * same rows go to two tables, so they are encoded once for both.
 */
export const ROW_COLUMNS = [
  'event_uuid', 'id', 'user_id', 'prosthesis_type', 'muscle_group', 'signal_frequency', 'signal_duration',
  'signal_amplitude', 'event_timestamp', 'request_id', 'user_known', 'country', 'gender', 'age_band',
  '_lsn', '_version', '_is_deleted', '_source_ts',
].join(', ');

/** TabSeparated escaping: the three bytes that would end or change a field. */
function esc(s: string): string {
  if (!/[\t\n\\]/.test(s)) return s;
  return s.replace(/[\t\n\\]/g, (c) => (c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\\\'));
}
const optEsc = (s: string | null): string => (s === null ? '\\N' : esc(s));

/**
 * A Debezium or ClickHouse UTC timestamp (UTC_TIMESTAMP) in ClickHouse's basic
 * text form, `YYYY-MM-DD hh:mm:ss[.ffffff]`, which needs no best-effort parsing.
 * The decoder has already refused anything else.
 */
export function basicTimestamp(ts: string): string {
  const m = UTC_TIMESTAMP.exec(ts);
  if (!m) throw new Error(`not a UTC timestamp: ${ts}`);
  // DateTime64(6) keeps microseconds; digits beyond them are cut, as before.
  return m[3] ? `${m[1]} ${m[2]}.${m[3].slice(0, 6)}` : `${m[1]} ${m[2]}`;
}

/** Milliseconds since the epoch as DateTime64(3) text; one transaction's rows share one. */
function sourceTsText(): (ms: number) => string {
  let lastMs = Number.NaN;
  let last = '';
  return (ms) => {
    if (ms !== lastMs) {
      lastMs = ms;
      last = new Date(ms).toISOString().slice(0, 23).replace('T', ' ');
    }
    return last;
  };
}

export function encodeRows(rows: readonly EnrichedRow[]): Buffer {
  const sourceTs = sourceTsText();
  const lines: string[] = new Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    lines[i] =
      `${r.event_uuid}\t${r.id}\t${r.user_id}\t${esc(r.prosthesis_type)}\t${esc(r.muscle_group)}\t` +
      `${r.signal_frequency}\t${r.signal_duration}\t${r.signal_amplitude}\t${basicTimestamp(r.event_timestamp)}\t` +
      `${optEsc(r.request_id)}\t${r.user_known}\t${optEsc(r.country)}\t${optEsc(r.gender)}\t${optEsc(r.age_band)}\t` +
      `${r._lsn}\t${r._version}\t${r._is_deleted}\t${sourceTs(r._source_ts)}\n`;
  }
  return Buffer.from(lines.join(''), 'utf8');
}
