import { randomUUID } from 'node:crypto';
import { issuesFromZod, type InputIssue } from '@cdc/http';
import { IncomingTelemetryEvent } from '@cdc/schemas';
import { canonicalInstant, INSTANT_RANGE_MESSAGE } from './instant.js';

/**
 * A valid event in the form the database stores it: what payload equality compares.
 * event_uuid is always set and lower-case (PostgreSQL prints uuids that way, and
 * within-batch matching must agree); event_timestamp is canonical UTC with
 * microseconds (see instant.ts).
 */
export type NewEvent = Required<IncomingTelemetryEvent>;

export type CheckedEvent =
  | { ok: true; event: NewEvent }
  | { ok: false; errors: InputIssue[]; event_uuid?: string };

// PostgreSQL text cannot hold NUL (the insert would fail, and with it a whole
// batch), and a lone surrogate would be stored as U+FFFD, so a retry of the same
// payload would then look like a conflict.
const UNSTORABLE_TEXT = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const UNSTORABLE_TEXT_MESSAGE = 'must not contain NUL characters or unpaired UTF-16 surrogates';

/**
 * Problems with the storage rules the shared contract does not state, in fields
 * that are otherwise of the right kind (a wrong kind is the contract's to report).
 */
function storageIssues(e: Record<string, unknown>): InputIssue[] {
  const issues: InputIssue[] = [];
  for (const field of ['prosthesis_type', 'muscle_group'] as const) {
    const v = e[field];
    if (typeof v === 'string' && UNSTORABLE_TEXT.test(v)) {
      issues.push({ path: field, message: UNSTORABLE_TEXT_MESSAGE, code: 'custom' });
    }
  }
  const ts = e.event_timestamp;
  if (typeof ts === 'string' && canonicalInstant(ts) === undefined) {
    issues.push({ path: 'event_timestamp', message: INSTANT_RANGE_MESSAGE, code: 'out_of_range' });
  }
  return issues;
}

/**
 * The contract's issues plus the storage-rule issues of fields the contract did not
 * flag, so that one answer lists every problem with an event.
 */
export function withStorageIssues(contractIssues: InputIssue[], raw: unknown): InputIssue[] {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return contractIssues;
  const reported = new Set(contractIssues.map((i) => i.path));
  const extra = storageIssues(raw as Record<string, unknown>).filter((i) => !reported.has(i.path));
  return extra.length === 0 ? contractIssues : [...contractIssues, ...extra];
}

/**
 * An event the contract accepted → the form the database stores, or the storage
 * rules it breaks. Missing event_uuids are generated here.
 */
export function toNewEvent(e: IncomingTelemetryEvent): CheckedEvent {
  const event_uuid = e.event_uuid?.toLowerCase();
  const event_timestamp = canonicalInstant(e.event_timestamp);
  if (event_timestamp === undefined || UNSTORABLE_TEXT.test(e.prosthesis_type) || UNSTORABLE_TEXT.test(e.muscle_group)) {
    const errors = storageIssues(e);
    return event_uuid ? { ok: false, errors, event_uuid } : { ok: false, errors };
  }
  return {
    ok: true,
    event: {
      event_uuid: event_uuid ?? randomUUID(),
      user_id: e.user_id,
      prosthesis_type: e.prosthesis_type,
      muscle_group: e.muscle_group,
      signal_frequency: e.signal_frequency,
      signal_duration: e.signal_duration,
      signal_amplitude: e.signal_amplitude,
      event_timestamp,
    },
  };
}

/** One untrusted batch item → a storable event, or every problem with it. */
export function checkEvent(raw: unknown): CheckedEvent {
  const parsed = IncomingTelemetryEvent.safeParse(raw);
  if (parsed.success) return toNewEvent(parsed.data);
  const errors = withStorageIssues(issuesFromZod(parsed.error), raw);
  // Echo the item's uuid when it is a usable one, so a client can match results by uuid too.
  const uuid = (raw as { event_uuid?: unknown } | null)?.event_uuid;
  return typeof uuid === 'string' && !errors.some((i) => i.path === 'event_uuid')
    ? { ok: false, errors, event_uuid: uuid.toLowerCase() }
    : { ok: false, errors };
}
