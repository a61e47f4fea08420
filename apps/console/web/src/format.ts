/** Formatting with Intl, in one place. */

const int = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
const dec = new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 });
const compact = new Intl.NumberFormat(undefined, { notation: 'compact', maximumFractionDigits: 1 });
const dateTime = new Intl.DateTimeFormat(undefined, {
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  fractionalSecondDigits: 3,
  hour12: false,
});
const timeOnly = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
const shortDate = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric' });
const dayAndTime = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', hour12: false });
const fullDate = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', day: 'numeric' });

export const DASH = '—';

export function fmtInt(n: number | string | null | undefined): string {
  if (n === null || n === undefined || n === '') return DASH;
  const v = typeof n === 'string' ? Number(n) : n;
  if (!Number.isFinite(v)) return String(n);
  return int.format(v);
}

export function fmtNum(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return DASH;
  return dec.format(n);
}

export function fmtCompact(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return DASH;
  return compact.format(n);
}

export function fmtRate(perS: number | null | undefined): string {
  if (perS === null || perS === undefined) return DASH;
  return `${perS >= 100 ? fmtInt(perS) : fmtNum(perS)}/s`;
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
export function fmtBytes(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return DASH;
  let v = Math.abs(n);
  let u = 0;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  const s = new Intl.NumberFormat(undefined, { maximumFractionDigits: u === 0 ? 0 : 1 }).format(v);
  return `${n < 0 ? '-' : ''}${s} ${UNITS[u]}`;
}

export function fmtMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return DASH;
  const a = Math.abs(ms);
  if (a < 1000) return `${fmtInt(ms)} ms`;
  if (a < 60_000) return `${dec.format(ms / 1000)} s`;
  if (a < 3_600_000) return `${dec.format(ms / 60_000)} min`;
  if (a < 86_400_000) return `${dec.format(ms / 3_600_000)} h`;
  return `${dec.format(ms / 86_400_000)} d`;
}

/** Kafka's retention.ms: "-1" is forever. */
export function fmtRetention(ms: string | null | undefined): string {
  if (ms === null || ms === undefined || ms === '') return DASH;
  const v = Number(ms);
  if (!Number.isFinite(v)) return ms;
  if (v < 0) return 'forever';
  return fmtMs(v);
}

function toDate(t: string | number | Date): Date | null {
  let d: Date;
  if (t instanceof Date) d = t;
  else if (typeof t === 'number') d = new Date(t);
  else if (/^\d+$/.test(t)) d = new Date(Number(t));
  else d = new Date(t);
  return Number.isNaN(d.getTime()) ? null : d;
}

export function fmtTime(t: string | number | Date | null | undefined): string {
  if (t === null || t === undefined || t === '') return DASH;
  const d = toDate(t);
  return d ? dateTime.format(d) : String(t);
}

export function fmtClock(t: string | number | Date | null | undefined): string {
  if (t === null || t === undefined || t === '') return DASH;
  const d = toDate(t);
  return d ? timeOnly.format(d) : String(t);
}

/** An axis tick: date for long spans, day and time for a few days, time otherwise. */
export function fmtAxisTime(ms: number, spanMs: number): string {
  const d = new Date(ms);
  if (spanMs > 7 * 86_400_000) return shortDate.format(d);
  if (spanMs > 86_400_000) return dayAndTime.format(d);
  return timeOnly.format(d);
}

export function fmtDate(ms: number): string {
  return fullDate.format(new Date(ms));
}

/** A value from JSON shown in one table cell. */
export function cellText(v: unknown): string {
  if (v === null || v === undefined) return 'NULL';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  return JSON.stringify(v);
}

export function prettyJson(v: unknown): string {
  if (typeof v === 'string') {
    try {
      return JSON.stringify(JSON.parse(v), null, 2);
    } catch {
      return v;
    }
  }
  return JSON.stringify(v, null, 2) ?? String(v);
}

export function truncate(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}
