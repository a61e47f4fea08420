/**
 * Timestamps as canonical UTC strings with exactly six fractional digits
 * (`2026-11-25T12:00:00.123456Z`), the precision of PostgreSQL's timestamptz.
 *
 * Why not JS Date: it holds milliseconds, so microseconds would be lost on the way
 * back to the client and two different instants could compare equal. Why not hand
 * the client's string to PostgreSQL: some strings the contract accepts are errors
 * there (year 0000, offsets beyond ±15:59), and one such item would fail a whole
 * batch statement. Converting here gives one instant both sides agree on, and
 * string equality of canonical forms is equality of instants.
 */

import { EVENT_TIME_RANGE_MESSAGE, LIMITS } from '@cdc/schemas';

// The contract (z.iso.datetime({ offset: true })) admits exactly this shape.
const ISO = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:Z|([+-])(\d{2}):(\d{2}))$/;

const MS_PER_DAY = 86_400_000;
// Date.UTC maps years 0–99 to 1900–1999; shifting by one Gregorian cycle (400
// years, exactly 146,097 days) avoids that without changing the instant.
const CYCLE_YEARS = 400;
const CYCLE_MS = 146_097 * MS_PER_DAY;

/**
 * LIMITS.eventTimeMin … eventTimeMax (whole years, UTC): what every ClickHouse column
 * an event reaches can hold. PostgreSQL would store more (years 1–9999), but an event
 * ClickHouse cannot hold would be in PostgreSQL and missing from, or mis-bucketed in,
 * the views downstream; it is refused here instead, with a clear error.
 */
const MIN_MS = Date.parse(LIMITS.eventTimeMin);
const MAX_MS = Date.parse(LIMITS.eventTimeMax);
const MIN_YEAR = LIMITS.eventTimeMin.slice(0, 4);
const MAX_YEAR = LIMITS.eventTimeMax.slice(0, 4);

export const INSTANT_RANGE_MESSAGE = EVENT_TIME_RANGE_MESSAGE;

/** Round half to even, as C's rint() in PostgreSQL's fractional-second parser. */
function rint(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * The canonical UTC form of an ISO 8601 date-time with offset, or undefined when
 * the string is not one or lies outside the storable range. Digits beyond the
 * microsecond are rounded the way PostgreSQL rounds them.
 */
export function canonicalInstant(iso: string): string | undefined {
  const m = ISO.exec(iso);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, sign, oh, om] = m;
  // Fast path, the common case: UTC to at most microseconds is canonical once padded.
  if (!sign && (frac === undefined || frac.length <= 6) && y! >= MIN_YEAR && y! <= MAX_YEAR) {
    return `${iso.slice(0, 19)}.${frac === undefined ? '000000' : frac.padEnd(6, '0')}Z`;
  }
  const micros = frac ? rint(Number(`0.${frac}`) * 1e6) : 0; // 0 … 1,000,000
  const offsetMs = sign ? (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om)) * 60_000 : 0;
  const ms =
    Date.UTC(Number(y) + CYCLE_YEARS, Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)) -
    CYCLE_MS -
    offsetMs +
    Math.floor(micros / 1000);
  if (!(ms >= MIN_MS && ms <= MAX_MS)) return undefined;
  return formatInstant(ms, micros % 1000);
}

/** ms since the epoch + the microseconds within that millisecond → canonical string. */
function formatInstant(ms: number, microsOfMilli: number): string {
  // toISOString: `YYYY-MM-DDTHH:MM:SS.mmmZ` for years 0000–9999.
  return `${new Date(ms).toISOString().slice(0, 23)}${String(microsOfMilli).padStart(3, '0')}Z`;
}

/**
 * The SQL expression that prints a timestamptz column in the canonical form, so a
 * stored instant reads back exactly as `canonicalInstant` wrote it.
 */
export function sqlCanonicalInstant(column: string): string {
  return `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
}
