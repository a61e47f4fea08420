import { TELEMETRY_PAYLOAD_FIELDS } from '@cdc/schemas';
import type { NewEvent } from './event-input.js';

/** The fields a client chooses; an event_uuid names exactly one combination of them. */
export const PAYLOAD_FIELDS = TELEMETRY_PAYLOAD_FIELDS;

export type Payload = Pick<NewEvent, (typeof PAYLOAD_FIELDS)[number]>;

/**
 * The payload fields in which an incoming event differs from the stored one; empty
 * means a retry of the same event. Timestamps are canonical strings, so comparing
 * them compares instants at microsecond precision whatever offset the client used;
 * amplitudes are compared exactly (float8 round-trips a JS number without loss),
 * except that -0 equals 0, as in PostgreSQL.
 */
export function payloadDifferences(incoming: Payload, stored: Payload): string[] {
  return PAYLOAD_FIELDS.filter((f) => incoming[f] !== stored[f]);
}

export function samePayload(incoming: Payload, stored: Payload): boolean {
  return PAYLOAD_FIELDS.every((f) => incoming[f] === stored[f]);
}
