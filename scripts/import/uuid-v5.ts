import { hash } from 'node:crypto';
import type { IncomingTelemetryEvent } from '@cdc/schemas';

/**
 * Name-based UUID, version 5 (RFC 9562 §5.5): SHA-1 over namespace bytes + name bytes,
 * first 16 bytes, version nibble 5, variant 10. node:crypto has no v5 and the `uuid`
 * package is not a dependency of this repository, so here are the few lines.
 * Checked against the RFC's example in test/mappers.test.ts.
 */
export function uuidV5(name: string, namespace: string): string {
  const ns = uuidToBytes(namespace);
  // One-shot crypto.hash over [namespace bytes | UTF-8 name]: ~3× faster than createHash().update().digest().
  const buf = Buffer.allocUnsafe(16 + name.length * 3);
  ns.copy(buf, 0);
  const len = buf.write(name, 16, 'utf8');
  const h = hash('sha1', buf.subarray(0, 16 + len), 'buffer');
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.toString('hex', 0, 16);
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

const nsCache = new Map<string, Buffer>();
function uuidToBytes(uuid: string): Buffer {
  let b = nsCache.get(uuid);
  if (!b) {
    const hex = uuid.replace(/-/g, '');
    if (!/^[0-9a-f]{32}$/i.test(hex)) throw new Error(`not a UUID: ${uuid}`);
    b = Buffer.from(hex, 'hex');
    nsCache.set(uuid, b);
  }
  return b;
}

/**
 * The namespace of event_uuids derived by the telemetry CSV import (a random v4 drawn by
 * crypto.randomUUID() once, 2026-11-25). Never change it, nor the canonical form below: re-importing a file
 * would then insert every row a second time. A new canonical form needs a new namespace.
 */
export const TELEMETRY_CSV_NAMESPACE = '28d8f658-3a94-4ea1-9428-9d26052fdf54';

/**
 * An ISO 8601 timestamp with offset (the form IncomingTelemetryEvent accepts:
 * YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)) as integer microseconds since the epoch,
 * rounded to microseconds like PostgreSQL's timestamptz. So the same instant written
 * as "…T12:00:00.5Z", "…T12:00:00.500000Z" or "…T14:00:00.5+02:00" gets one value.
 */
export function timestampMicros(iso: string): number {
  const m = ISO.exec(iso);
  if (!m) throw new Error(`not an ISO 8601 timestamp with offset: ${iso}`);
  const date = m[1]!;
  if (date !== lastDate) {
    const d = new Date(0);
    d.setUTCFullYear(Number(date.slice(0, 4)), Number(date.slice(5, 7)) - 1, Number(date.slice(8, 10))); // years < 100 too
    lastDate = date;
    lastDateMs = d.getTime();
  }
  let ms = lastDateMs + ((Number(m[2]) * 60 + Number(m[3])) * 60 + Number(m[4])) * 1000;
  if (m[6] !== 'Z') ms -= (m[7] === '-' ? -1 : 1) * (Number(m[8]) * 60 + Number(m[9])) * 60_000;
  const frac = m[5] ?? '';
  let micros = frac.length >= 6 ? Number(frac.slice(0, 6)) : Number(frac.padEnd(6, '0'));
  if (frac.length > 6 && frac.charCodeAt(6) >= 0x35 /* '5' */) micros += 1; // PostgreSQL rounds half up
  return ms * 1000 + micros;
}
const ISO = /^(\d{4}-\d{2}-\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|([+-])(\d{2}):(\d{2}))$/;
// Timestamps in a file are mostly in order: the calendar part is computed once per day.
let lastDate = '';
let lastDateMs = 0;

export type TelemetryContent = Omit<IncomingTelemetryEvent, 'event_uuid'>;

/**
 * The deterministic event_uuid of a CSV row without one: UUID v5 in
 * TELEMETRY_CSV_NAMESPACE over the row's canonical content, i.e. the JSON array of the
 * validated values (labels trimmed as the schema trims them, numbers as JavaScript
 * prints them — "0.50" and "0.5" are one value — and the timestamp as epoch
 * microseconds). Two rows with the same content are the same event.
 */
export function deriveEventUuid(e: TelemetryContent): string {
  const name = JSON.stringify([
    e.user_id,
    e.prosthesis_type,
    e.muscle_group,
    e.signal_frequency,
    e.signal_duration,
    e.signal_amplitude,
    timestampMicros(e.event_timestamp),
  ]);
  return uuidV5(name, TELEMETRY_CSV_NAMESPACE);
}
