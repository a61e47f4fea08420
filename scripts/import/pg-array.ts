/**
 * PostgreSQL array literals for the unnest() parameters, built with one join per
 * column. pg's own serialisation of JS arrays (escaping every element through a
 * generic path) took 55–100 ms per 5,000-row batch, as long as the INSERT itself.
 * The parameters are sent as text and cast in SQL ($1::text[], $2::int[], …).
 */

const NEEDS_ESCAPE = /["\\]/;
const ESCAPE = /["\\]/g;

/** Text elements: always double-quoted (so blanks, commas, braces and the word NULL stay data). */
export function textArray<T>(rows: readonly T[], get: (row: T) => string | null | undefined): string {
  const parts = new Array<string>(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const v = get(rows[i]!);
    parts[i] = v == null ? 'NULL' : NEEDS_ESCAPE.test(v) ? `"${v.replace(ESCAPE, '\\$&')}"` : `"${v}"`;
  }
  return `{${parts.join(',')}}`;
}

/** Finite numbers (validated): JavaScript's shortest round-trip form, which PostgreSQL reads exactly. */
export function numberArray<T>(rows: readonly T[], get: (row: T) => number | null | undefined): string {
  const parts = new Array<string>(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const v = get(rows[i]!);
    if (v != null && !Number.isFinite(v)) throw new Error(`not a finite number: ${v}`);
    parts[i] = v == null ? 'NULL' : String(v);
  }
  return `{${parts.join(',')}}`;
}

/** Values that cannot contain anything special (validated UUIDs and ISO 8601 timestamps). */
export function plainArray<T>(rows: readonly T[], get: (row: T) => string | null | undefined): string {
  const parts = new Array<string>(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const v = get(rows[i]!);
    if (v != null && !/^[0-9A-Za-z:.+-]+$/.test(v)) throw new Error(`unexpected characters in ${JSON.stringify(v)}`);
    parts[i] = v == null ? 'NULL' : v;
  }
  return `{${parts.join(',')}}`;
}
