import { TELEMETRY_PAYLOAD_FIELDS } from '@cdc/schemas';
import type { NewEvent } from './event-input.js';

export type Payload = Pick<NewEvent, (typeof TELEMETRY_PAYLOAD_FIELDS)[number]>;

/**
 * The payload fields in which an incoming event differs from the stored one; empty
 * means a retry of the same event. Timestamps are canonical strings, so comparing
 * them compares instants at microsecond precision whatever offset the client used;
 * amplitudes are compared exactly (float8 round-trips a JS number without loss),
 * except that -0 equals 0, as in PostgreSQL.
 */
export function payloadDifferences(incoming: Payload, stored: Payload): string[] {
  return TELEMETRY_PAYLOAD_FIELDS.filter((f) => incoming[f] !== stored[f]);
}

export function samePayload(incoming: Payload, stored: Payload): boolean {
  return TELEMETRY_PAYLOAD_FIELDS.every((f) => incoming[f] === stored[f]);
}
