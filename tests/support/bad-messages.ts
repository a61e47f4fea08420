import avsc from 'avsc';
import fc from 'fast-check';
import { AVRO_OPTIONS } from '@cdc/kafka';

/**
 * A corpus of malformed messages for the two consumed CDC topics, generated with
 * fast-check from a seed, each with what each consumer must do with it:
 *
 * - the ClickHouse path (clickhouse/0004, 0005, 0009_every_message_traced.sql): the
 *   Kafka engine hands the parse view every non-empty value whole (RawBLOB), one row per
 *   message; a value that is not one valid UTF-8 JSON document (simdjson: invalid UTF-8,
 *   nesting beyond 1024 levels or an integer literal beyond 64 bits included) or is JSON but not an object becomes one
 *   kafka_errors row, decided by its bytes alone (chByBytes); an object is checked for
 *   op / the row image / source with JSONExtract, which converts leniently (numeric
 *   strings to numbers, floats truncated, booleans to 0/1, anything to text, positional
 *   arrays to tuples); a zero-length value never reaches the view and is counted as
 *   skipped in debezium.kafka_trace, like a tombstone;
 * - the stream processor (apps/stream-processor/src/debezium.ts): JSON.parse of the
 *   value decoded as strict UTF-8 (invalid bytes: not JSON), or the Confluent wire format
 *   through the schema registry, then a zod envelope with strict types (since 6b5aa54
 *   the row fields ClickHouse requires; optional ones such as users.age only typed).
 *
 * Everything here is pure: the test sends the messages and checks the outcomes.
 */

export type TopicKind = 'users' | 'telemetry';
export const TOPIC: Record<TopicKind, string> = {
  users: 'crm.public.users',
  telemetry: 'telemetry.public.telemetry_events',
};

/** A row a message must leave in default.users / default.telemetry_events (id, source.lsn). */
export interface StoredRow {
  id: number;
  lsn: number;
}

/** What the ClickHouse path must do with a message. */
export type ChExpect =
  /** `rows` rows in debezium.kafka_errors at the message's topic/partition/offset. */
  | { kind: 'error'; rows: number; error: RegExp }
  /** Taken as change event(s): these rows in the current-state table, nothing in kafka_errors. */
  | { kind: 'stored'; rows: StoredRow[] }
  /** No row anywhere, and counted as skipped in debezium.kafka_trace (a zero-length value). */
  | { kind: 'skipped' }
  /** Not one JSON object: what ClickHouse does follows from the bytes alone (chByBytes, applied by corpus()). */
  | { kind: 'by-bytes' };

/** What the stream processor must do with a message. */
export type ProcExpect =
  | { kind: 'dlq'; error: RegExp }
  /** Processed as a change; for telemetry, `enriched` is the row it must write to analytics.telemetry_enriched. */
  | { kind: 'accepted'; enriched?: { uuid: string; id: number } }
  /** Read as a tombstone: neither processed nor dead-lettered. */
  | { kind: 'tombstone' };

export interface BadMessage {
  topic: TopicKind;
  cls: string;
  variant: string;
  key: string;
  value: Buffer;
  /** Only sentinels pick their partition; every other message goes where its key hashes. */
  partition?: number;
  ch: ChExpect;
  proc: ProcExpect;
  /** Set when a path takes a malformed message as data or drops it without a trace. */
  finding?: string;
}

export interface CorpusOptions {
  seed: number;
  /** Messages per class (the huge, empty and sentinel classes are fixed and small). */
  runs: number;
  /** Tags every fake row of this run (prosthesis_type, names, e-mails). */
  run: string;
  /** Fake ids are -(idBase + n): negative, so no real row ever has one. */
  idBase: number;
  /** user_id of every fake telemetry event (negative, unknown to CRM). */
  fakeUserId: number;
  /** source.ts_ms of fake events: now, so that accepted ones do not distort debezium.freshness. */
  nowMs: number;
  /** A schema registered in the stack's registry, for wire-format messages with a real id. */
  probe: { id: number; schema: Record<string, unknown> };
  partitions: Record<TopicKind, number>;
}

// ---------------------------------------------------------------- expected errors

export const CH_NOT_JSON = /^not JSON: the value is not one valid UTF-8 JSON document$/;
export const CH_NOT_OBJECT = /^not a Debezium change event: the value is a JSON (array|string|int64|uint64|double|bool|null), not an object$/;
export const CH_OP = /^not a Debezium change event: op is missing or unknown$/;
const chNo = (path: string) => new RegExp(`^no ${path.replace('.', '\\.')}$`);
const chNoValid = (path: string) => new RegExp(`^no valid ${path.replace('.', '\\.')}$`);
export const P_JSON = /^not JSON: /;
export const P_SHAPE = /^not a Debezium change event: /;
export const P_AVRO = /^Avro decoding failed: /;

const chError = (error: RegExp, rows = 1): ChExpect => ({ kind: 'error', rows, error });
const BY_BYTES: ChExpect = { kind: 'by-bytes' };

/** simdjson's nesting limit (ClickHouse's JSON functions); near it, either verdict is taken. */
const CH_MAX_DEPTH = 1024;
const either = (...res: RegExp[]) => new RegExp(res.map((r) => `(?:${r.source})`).join('|'));

function nestingDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === '"') inString = false;
    } else if (ch === '"') inString = true;
    else if (ch === '{' || ch === '[') max = Math.max(max, ++depth);
    else if (ch === '}' || ch === ']') depth--;
  }
  return max;
}

function hasIntegerBeyond64Bits(text: string): boolean {
  const outsideStrings = text.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  for (const m of outsideStrings.matchAll(/-?\d+(\.\d+)?([eE][+-]?\d+)?/g)) {
    if (m[1] !== undefined || m[2] !== undefined) continue;
    const n = BigInt(m[0]);
    if (n < -(2n ** 63n) || n > 2n ** 64n - 1n) return true;
  }
  return false;
}

/**
 * What the ClickHouse path does with a value by its bytes alone, or undefined when the
 * value is one JSON object (then the parse view's checks decide, and the recipe says).
 */
export function chByBytes(value: Buffer): ChExpect | undefined {
  if (value.length === 0) return { kind: 'skipped' };
  let parsed: unknown;
  let text: string;
  try {
    // ignoreBOM: a leading BOM stays in the text, and JSON.parse refuses it as simdjson does.
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(value);
    parsed = JSON.parse(text);
  } catch {
    return chError(CH_NOT_JSON);
  }
  // simdjson refuses an integer literal beyond 64 bits, which JSON.parse reads as a double.
  if (hasIntegerBeyond64Bits(text)) return chError(CH_NOT_JSON);
  const isObject = parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed);
  const depth = nestingDepth(text);
  if (depth > CH_MAX_DEPTH + 50) return chError(CH_NOT_JSON);
  if (depth > CH_MAX_DEPTH - 50) return chError(either(CH_NOT_JSON, isObject ? CH_OP : CH_NOT_OBJECT));
  return isObject ? undefined : chError(CH_NOT_OBJECT);
}
const dlq = (error: RegExp): ProcExpect => ({ kind: 'dlq', error });

// ---------------------------------------------------------------- building blocks

const LSN_BASE = 900_000_000_000;
/** ClickHouse's whitespace (isWhitespaceASCII): JSON.parse accepts only the first four. */
const CH_WS = [0x20, 0x09, 0x0a, 0x0d, 0x0b, 0x0c];
const JSON_WS = [' ', '\t', '\n', '\r'];
/** Byte sequences that are not UTF-8: stray bytes, truncated sequences, overlong forms, surrogates, > U+10FFFF. */
const NOT_UTF8 = [[0xff], [0xfe], [0x80], [0xc3], [0xc0, 0xaf], [0xe2, 0x82], [0xed, 0xa0, 0x80], [0xf0, 0x9f, 0x98], [0xf4, 0x90, 0x80, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80]];

interface Ctx {
  o: CorpusOptions;
  t: TopicKind;
  /** A fresh fake id and, with it, a fresh LSN. */
  fresh(): { id: number; lsn: number };
}

/** A complete, valid-looking row image (what Debezium would write for the row). */
function image(c: Ctx, id: number, uuid: string): Record<string, unknown> {
  if (c.t === 'users') {
    return {
      id,
      user_uuid: uuid,
      name: `bad-messages ${c.o.run}`,
      email: `bad-${c.o.run}${id}@bad-messages.invalid`,
      age: 33,
      gender: 'female',
      country: 'UA',
      address: null,
      phone: null,
      registered_at: '2026-11-21T10:17:42.123456Z',
    };
  }
  return {
    id,
    event_uuid: uuid,
    user_id: c.o.fakeUserId,
    prosthesis_type: `bad-messages-${c.o.run}`,
    muscle_group: 'fuzz',
    signal_frequency: 500,
    signal_duration: 100,
    signal_amplitude: 1.5,
    event_timestamp: '2001-01-01T00:00:00.000000Z',
    saved_ts: '2001-01-01T00:00:01.000000Z',
  };
}

function envelope(c: Ctx, row: unknown, lsn: number, op = 'c'): Record<string, unknown> {
  const users = c.t === 'users';
  return {
    before: null,
    after: row,
    source: {
      version: '3.6.3.Final',
      connector: 'postgresql',
      name: users ? 'crm' : 'telemetry',
      ts_ms: c.o.nowMs,
      snapshot: 'false',
      db: users ? 'crm_db' : 'telemetry_db',
      sequence: `[null,"${lsn}"]`,
      schema: 'public',
      table: users ? 'users' : 'telemetry_events',
      txId: 4242,
      lsn,
      xmin: null,
    },
    transaction: null,
    op,
    ts_ms: c.o.nowMs,
  };
}

/** A valid fake change event: both consumers take it (used inside the malformed ones). */
function validEvent(c: Ctx, uuid: string): { event: Record<string, unknown>; row: StoredRow } {
  const { id, lsn } = c.fresh();
  return { event: envelope(c, image(c, id, uuid), lsn), row: { id, lsn } };
}

const keyOf = (id: number) => JSON.stringify({ id });
const json = (v: unknown) => Buffer.from(JSON.stringify(v));
/** The string field a topic's processor does not type-check beyond "string" (users: not at all). */
const textField = (t: TopicKind) => (t === 'users' ? 'name' : 'prosthesis_type');

function setPath(obj: Record<string, unknown>, path: string, value: unknown): Record<string, unknown> {
  const copy = structuredClone(obj);
  const parts = path.split('.');
  let at = copy as Record<string, unknown>;
  for (const p of parts.slice(0, -1)) at = at[p] as Record<string, unknown>;
  if (value === DELETE) delete at[parts.at(-1)!];
  else at[parts.at(-1)!] = value;
  return copy;
}
const DELETE = Symbol('delete');

function parsesAsJson(b: Buffer): boolean {
  try {
    JSON.parse(b.toString('utf8'));
    return true;
  } catch {
    return false;
  }
}

/** What one sampled recipe becomes once it is given fresh ids. */
type Built = Omit<BadMessage, 'topic' | 'cls'>;
type Recipe = (c: Ctx) => Built;

// ---------------------------------------------------------------- classes

/** Random bytes that no consumer can mistake for anything: not starting (after ClickHouse's whitespace) with `{` or `[`, not wire format. */
const randomBytes = (): fc.Arbitrary<Recipe> =>
  fc
    .uint8Array({ minLength: 1, maxLength: 400 })
    .filter((b) => {
      const first = b.findIndex((x) => !CH_WS.includes(x));
      return first !== -1 && b[first] !== 0x7b && b[first] !== 0x5b && b[0] !== 0x00;
    })
    .map((bytes) => (c) => {
      const value = Buffer.from(bytes);
      return {
        variant: 'random',
        key: keyOf(c.fresh().id),
        value,
        ch: BY_BYTES,
        // A few random byte strings are JSON after all (a number): then the envelope check refuses them.
        proc: dlq(parsesAsJson(value) ? P_SHAPE : P_JSON),
      };
    });

const nonUtf8 = (): fc.Arbitrary<Recipe> =>
  fc.record({ where: fc.constantFrom('in-string', 'between-tokens', 'leading'), bad: fc.constantFrom(...NOT_UTF8), uuid: fc.uuid({ version: 4 }) }).map(
    ({ where, bad, uuid }) =>
      (c) => {
        const { event, row } = validEvent(c, uuid);
        const field = textField(c.t);
        const mark = '@@NOT-UTF8@@';
        let text: string;
        if (where === 'in-string') {
          text = JSON.stringify(setPath(event, `after.${field}`, `${(event.after as Record<string, string>)[field]}${mark}x`));
        } else if (where === 'between-tokens') {
          text = JSON.stringify(event).replace('"after":', `${mark}"after":`);
        } else {
          text = `${mark}${JSON.stringify(event)}`;
        }
        const [head, tail] = text.split(mark) as [string, string];
        const value = Buffer.concat([Buffer.from(head), Buffer.from(bad), Buffer.from(tail)]);
        if (where === 'in-string') {
          return {
            variant: where,
            key: keyOf(row.id),
            value,
            ch: BY_BYTES,
            proc: dlq(P_JSON),
          };
        }
        return {
          variant: where,
          key: keyOf(row.id),
          value,
          ch: BY_BYTES,
          proc: dlq(P_JSON),
        };
      },
  );

const truncated = (): fc.Arbitrary<Recipe> =>
  fc.record({ uuid: fc.uuid({ version: 4 }), cut: fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }), pretty: fc.boolean() }).map(
    ({ uuid, cut, pretty }) =>
      (c) => {
        const { event, row } = validEvent(c, uuid);
        const text = pretty ? JSON.stringify(event, null, 2) : JSON.stringify(event);
        const at = 1 + Math.floor(cut * (text.length - 1));
        return { variant: pretty ? 'pretty' : 'compact', key: keyOf(row.id), value: Buffer.from(text.slice(0, at)), ch: BY_BYTES, proc: dlq(P_JSON) };
      },
  );

const scalar = fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.string({ maxLength: 40 }), fc.boolean(), fc.constant(null));

const arrays = (): fc.Arbitrary<Recipe> =>
  fc.oneof(
    fc.record({ ws: fc.array(fc.constantFrom(...JSON_WS), { maxLength: 3 }) }).map(({ ws }) => (c: Ctx): Built => ({
      variant: 'empty',
      key: keyOf(c.fresh().id),
      value: Buffer.from(`${ws.join('')}[${ws.join('')}]`),
      ch: BY_BYTES,
      proc: dlq(P_SHAPE),
    })),
    fc.array(scalar, { minLength: 1, maxLength: 5 }).map((xs) => (c: Ctx): Built => ({
      variant: 'of-scalars',
      key: keyOf(c.fresh().id),
      value: json(xs),
      ch: BY_BYTES,
      proc: dlq(P_SHAPE),
    })),
    fc.array(fc.record({ n: fc.integer(), s: fc.string({ maxLength: 20 }) }), { minLength: 1, maxLength: 4 }).map((xs) => (c: Ctx): Built => ({
      variant: 'of-objects',
      key: keyOf(c.fresh().id),
      value: json(xs),
      ch: BY_BYTES,
      proc: dlq(P_SHAPE),
    })),
    fc.array(fc.uuid({ version: 4 }), { minLength: 2, maxLength: 3 }).map((uuids) => (c: Ctx): Built => {
      const events = uuids.map((u) => validEvent(c, u));
      return {
        variant: 'of-valid-events',
        key: keyOf(events[0]!.row.id),
        value: json(events.map((e) => e.event)),
        ch: BY_BYTES,
        proc: dlq(P_SHAPE),
      };
    }),
    fc.record({ uuid: fc.uuid({ version: 4 }), x: scalar }).map(({ uuid, x }) => (c: Ctx): Built => {
      const { event, row } = validEvent(c, uuid);
      return {
        variant: 'valid-event-then-scalar',
        key: keyOf(row.id),
        value: json([event, x]),
        ch: BY_BYTES,
        proc: dlq(P_SHAPE),
      };
    }),
  );

const scalars = (): fc.Arbitrary<Recipe> =>
  scalar.map((x) => (c) => ({ variant: x === null ? 'null' : typeof x, key: keyOf(c.fresh().id), value: json(x), ch: BY_BYTES, proc: dlq(P_SHAPE) }));

/** Each field the pipeline reads, removed; what each path does without it. */
function missingFields(t: TopicKind): { path: string; ch: ChExpect; proc: ProcExpect; finding?: string }[] {
  const common = [
    { path: 'op', ch: chError(CH_OP), proc: dlq(P_SHAPE) },
    { path: 'after', ch: chError(chNo('after.id')), proc: dlq(P_SHAPE) },
    { path: 'source', ch: chError(chNo('source.lsn')), proc: dlq(P_SHAPE) },
    { path: 'source.lsn', ch: chError(chNo('source.lsn')), proc: dlq(P_SHAPE) },
    { path: 'source.ts_ms', ch: chError(chNo('source.ts_ms')), proc: dlq(P_SHAPE) },
    { path: 'after.id', ch: chError(chNo('after.id')), proc: dlq(P_SHAPE) },
  ];
  if (t === 'users') {
    // Since 6b5aa54 the processor's UserRow requires what ClickHouse's path requires.
    return [
      ...common,
      { path: 'after.user_uuid', ch: chError(chNoValid('after.user_uuid')), proc: dlq(P_SHAPE) },
      { path: 'after.name', ch: chError(chNo('after.name')), proc: dlq(P_SHAPE) },
      { path: 'after.email', ch: chError(chNo('after.email')), proc: dlq(P_SHAPE) },
      { path: 'after.registered_at', ch: chError(chNoValid('after.registered_at')), proc: dlq(P_SHAPE) },
    ];
  }
  return [
    ...common,
    { path: 'after.event_uuid', ch: chError(chNoValid('after.event_uuid')), proc: dlq(P_SHAPE) },
    ...['user_id', 'prosthesis_type', 'muscle_group', 'signal_frequency', 'signal_duration', 'signal_amplitude'].map((f) => ({
      path: `after.${f}`,
      ch: chError(chNo(`after.${f}`)),
      proc: dlq(P_SHAPE),
    })),
    { path: 'after.event_timestamp', ch: chError(chNoValid('after.event_timestamp')), proc: dlq(P_SHAPE) },
    { path: 'after.saved_ts', ch: chError(chNoValid('after.saved_ts')), proc: dlq(P_SHAPE) },
  ];
}

const missingField = (t: TopicKind): fc.Arbitrary<Recipe> =>
  fc.record({ m: fc.constantFrom(...missingFields(t)), uuid: fc.uuid({ version: 4 }) }).map(({ m, uuid }) => (c) => {
    const { event, row } = validEvent(c, uuid);
    const proc: ProcExpect = m.proc.kind === 'accepted' && t === 'telemetry' ? { kind: 'accepted', enriched: { uuid, id: row.id } } : m.proc;
    return { variant: `no ${m.path}`, key: keyOf(row.id), value: json(setPath(event, m.path, DELETE)), ch: m.ch, proc, finding: m.finding };
  });

interface Mutation {
  name: string;
  /** Where and what: a path in the envelope and its new value, from the row's id and LSN. */
  set: (id: number, lsn: number, uuid: string, nowMs: number) => [string, unknown];
  /** What ClickHouse does: refuses with this error, or stores the row under `storedId` (default: the id). */
  ch: RegExp | { storedId?: (id: number) => number; storedLsn?: (lsn: number) => number };
  proc: 'dlq' | 'accepted';
  finding?: string;
}

const SILENT_COERCION =
  'ClickHouse\'s JSONExtract converts leniently and the parse view accepts the result: numeric strings become numbers, floats are truncated, ' +
  'false/true become 0/1, any JSON becomes text, out-of-range or unparsable optional values become NULL; the processor refuses (or also accepts) the same message';

function mutations(t: TopicKind): Mutation[] {
  const common: Mutation[] = [
    { name: 'id as numeric string', set: (id) => ['after.id', String(id)], ch: {}, proc: 'dlq', finding: SILENT_COERCION },
    // -X.7 is truncated towards zero to -X: the fake's own id (a real id would be overwritten the same way).
    { name: 'id as float', set: (id) => ['after.id', id - 0.7], ch: {}, proc: 'dlq', finding: SILENT_COERCION },
    // false → 0, a row no PostgreSQL table has; `true` would become id 1 and overwrite a real row, so it is not sent.
    { name: 'id false', set: () => ['after.id', false], ch: { storedId: () => 0 }, proc: 'dlq', finding: 'a boolean id is stored by ClickHouse as id 0 (and `true` would be id 1: a real row overwritten)' },
    { name: 'id as object', set: (id) => ['after.id', { value: id }], ch: chNo('after.id'), proc: 'dlq' },
    { name: 'id as array', set: (id) => ['after.id', [id]], ch: chNo('after.id'), proc: 'dlq' },
    { name: 'id null', set: () => ['after.id', null], ch: chNo('after.id'), proc: 'dlq' },
    { name: 'lsn negative', set: (_id, lsn) => ['source.lsn', -lsn], ch: chNo('source.lsn'), proc: 'dlq' },
    { name: 'lsn as text', set: () => ['source.lsn', 'abc'], ch: chNo('source.lsn'), proc: 'dlq' },
    { name: 'lsn float', set: (_id, lsn) => ['source.lsn', lsn + 0.5], ch: {}, proc: 'dlq', finding: SILENT_COERCION },
    // Both refuse it (the processor since its Source schema requires a positive LSN).
    { name: 'lsn 0', set: () => ['source.lsn', 0], ch: chNo('source.lsn'), proc: 'dlq' },
    { name: 'ts_ms as numeric string', set: (_i, _l, _u, now) => ['source.ts_ms', String(now)], ch: {}, proc: 'dlq', finding: SILENT_COERCION },
    { name: 'ts_ms null', set: () => ['source.ts_ms', null], ch: chNo('source.ts_ms'), proc: 'dlq' },
    { name: 'op as number', set: () => ['op', 1], ch: CH_OP, proc: 'dlq' },
    { name: 'after as string', set: () => ['after', 'after'], ch: chNo('after.id'), proc: 'dlq' },
    {
      name: 'source as positional array',
      set: (_id, lsn, _u, now) => ['source', [lsn, now]],
      ch: {},
      proc: 'dlq',
      finding: 'a JSON array where an object belongs is read by JSONExtract positionally: `source: [lsn, ts_ms]` and a positional `after` are stored as real changes',
    },
  ];
  if (t === 'users') {
    return [
      ...common,
      // Both refuse it (the processor's user id is an Int32, as the column).
      { name: 'id beyond Int32', set: (id) => ['after.id', id - 3_000_000_000], ch: chNo('after.id'), proc: 'dlq' },
      { name: 'user_uuid as number', set: () => ['after.user_uuid', 12345], ch: chNoValid('after.user_uuid'), proc: 'dlq' },
      { name: 'user_uuid garbage', set: () => ['after.user_uuid', 'not-a-uuid'], ch: chNoValid('after.user_uuid'), proc: 'dlq' },
      { name: 'name as number', set: () => ['after.name', 4711], ch: {}, proc: 'dlq', finding: 'users: a name / email that is a number, boolean or object is stored by ClickHouse as its JSON text (the processor dead-letters it)' },
      { name: 'name as object', set: () => ['after.name', { first: 'Ada' }], ch: {}, proc: 'dlq', finding: 'users: a name / email that is a number, boolean or object is stored by ClickHouse as its JSON text (the processor dead-letters it)' },
      { name: 'email as boolean', set: () => ['after.email', true], ch: {}, proc: 'dlq', finding: 'users: a name / email that is a number, boolean or object is stored by ClickHouse as its JSON text (the processor dead-letters it)' },
      { name: 'age as text', set: () => ['after.age', 'abc'], ch: {}, proc: 'dlq', finding: 'users: an unparsable age is stored by ClickHouse as NULL (age is Nullable and unchecked): silent data loss' },
      { name: 'age as numeric string', set: () => ['after.age', '42'], ch: {}, proc: 'dlq', finding: SILENT_COERCION },
      {
        name: 'age beyond Int16',
        set: () => ['after.age', 40000],
        ch: {},
        proc: 'dlq',
        finding: 'users: age 40000 is stored by ClickHouse as NULL (age is Nullable and unchecked); the processor dead-letters it (age 0–150)',
      },
      { name: 'age float', set: () => ['after.age', 33.9], ch: {}, proc: 'dlq', finding: SILENT_COERCION },
      {
        name: 'registered_at nonsense',
        set: (id) => ['after.registered_at', ['1', '7', '12:00', '2026-11-21T25:00:00Z', '1732000000000'][Math.abs(id) % 5]],
        ch: {},
        proc: 'dlq',
        finding:
          'parseDateTime64BestEffortOrNull turns nonsense into dates ("1" → Jan 1 of this year, "7" → the 7th of this month, "12:00" → today-ish, hour 25 → next day, a 13-digit number → epoch ms): ClickHouse stores it as a real timestamp, the processor dead-letters it',
      },
      { name: 'registered_at garbage', set: () => ['after.registered_at', 'yesterday-ish'], ch: chNoValid('after.registered_at'), proc: 'dlq' },
      { name: 'ts_ms float', set: (_i, _l, _u, now) => ['source.ts_ms', now + 0.25], ch: {}, proc: 'dlq', finding: SILENT_COERCION },
      {
        name: 'after as positional array',
        set: (id, _lsn, uuid) => ['after', [id, uuid, 'positional', `positional${id}@bad-messages.invalid`, 30, null, 'UA', null, null, '2026-11-21T10:17:42.123456Z']],
        ch: {},
        proc: 'dlq',
        finding: 'a JSON array where an object belongs is read by JSONExtract positionally: `source: [lsn, ts_ms]` and a positional `after` are stored as real changes',
      },
    ];
  }
  return [
    ...common,
    { name: 'event_uuid garbage', set: () => ['after.event_uuid', 'not-a-uuid'], ch: chNoValid('after.event_uuid'), proc: 'dlq' },
    {
      name: 'event_uuid without dashes',
      set: (_id, _lsn, uuid) => ['after.event_uuid', uuid.replaceAll('-', '')],
      ch: {},
      proc: 'dlq',
      finding: 'telemetry: a uuid without dashes is stored by ClickHouse (toUUIDOrNull accepts it) and dead-lettered by the processor (z.uuid())',
    },
    { name: 'user_id as numeric string', set: () => ['after.user_id', '-5'], ch: {}, proc: 'dlq', finding: SILENT_COERCION },
    { name: 'signal_frequency float', set: () => ['after.signal_frequency', 500.9], ch: {}, proc: 'dlq', finding: SILENT_COERCION },
    { name: 'signal_amplitude as numeric string', set: () => ['after.signal_amplitude', '1.5'], ch: {}, proc: 'dlq', finding: SILENT_COERCION },
    { name: 'signal_amplitude boolean', set: () => ['after.signal_amplitude', true], ch: {}, proc: 'dlq', finding: SILENT_COERCION },
    { name: 'prosthesis_type as number', set: () => ['after.prosthesis_type', 123], ch: {}, proc: 'dlq', finding: SILENT_COERCION },
    {
      name: 'event_timestamp as number',
      set: () => ['after.event_timestamp', 1732000000000],
      ch: {},
      proc: 'dlq',
      finding: 'telemetry: a numeric event_timestamp becomes text and then a date (epoch ms) in ClickHouse; the processor refuses it',
    },
    { name: 'event_timestamp empty', set: () => ['after.event_timestamp', ''], ch: chNoValid('after.event_timestamp'), proc: 'dlq' },
    { name: 'saved_ts garbage', set: () => ['after.saved_ts', 'yesterday-ish'], ch: chNoValid('after.saved_ts'), proc: 'dlq' },
    {
      name: 'saved_ts nonsense',
      set: () => ['after.saved_ts', '1'],
      ch: {},
      proc: 'dlq',
      finding:
        'parseDateTime64BestEffortOrNull turns nonsense into dates ("1" → Jan 1 of this year, "7" → the 7th of this month, "12:00" → today-ish, hour 25 → next day, a 13-digit number → epoch ms): ClickHouse stores it as a real timestamp, the processor dead-letters it',
    },
    {
      name: 'after as positional array',
      set: (id, _lsn, uuid) => ['after', [id, uuid, -5, 'positional', 'fuzz', 500, 100, 1.5, '2001-01-01T00:00:00.000000Z', '2001-01-01T00:00:01.000000Z']],
      ch: {},
      proc: 'dlq',
      finding: 'a JSON array where an object belongs is read by JSONExtract positionally: `source: [lsn, ts_ms]` and a positional `after` are stored as real changes',
    },
  ];
}

const wrongType = (t: TopicKind): fc.Arbitrary<Recipe> =>
  fc.record({ m: fc.constantFrom(...mutations(t)), uuid: fc.uuid({ version: 4 }) }).map(({ m, uuid }) => (c) => {
    const { event, row } = validEvent(c, uuid);
    const [path, v] = m.set(row.id, row.lsn, uuid, c.o.nowMs);
    const ch: ChExpect =
      m.ch instanceof RegExp
        ? chError(m.ch)
        : { kind: 'stored', rows: [{ id: (m.ch.storedId ?? ((x) => x))(row.id), lsn: (m.ch.storedLsn ?? ((x) => x))(row.lsn) }] };
    const proc: ProcExpect = m.proc === 'dlq' ? dlq(P_SHAPE) : { kind: 'accepted', enriched: t === 'telemetry' ? { uuid, id: row.id } : undefined };
    return { variant: m.name, key: keyOf(row.id), value: json(setPath(event, path, v)), ch, proc, finding: m.finding };
  });

const opX = (): fc.Arbitrary<Recipe> =>
  fc
    .record({
      op: fc.oneof(fc.constantFrom('x', 'X', 'C', 'D', 'create', 'delete', 't', 'm', '', ' c', 'c ', 'rr'), fc.string({ maxLength: 4 })).filter((s) => !['r', 'c', 'u', 'd'].includes(s)),
      uuid: fc.uuid({ version: 4 }),
    })
    .map(({ op, uuid }) => (c) => {
      const { event, row } = validEvent(c, uuid);
      return { variant: `op ${JSON.stringify(op)}`, key: keyOf(row.id), value: json({ ...event, op }), ch: chError(CH_OP), proc: dlq(P_SHAPE) };
    });

const deleteWithoutBefore = (): fc.Arbitrary<Recipe> =>
  fc.record({ how: fc.constantFrom('no before', 'before null', 'before {}', 'before and after null'), uuid: fc.uuid({ version: 4 }) }).map(({ how, uuid }) => (c) => {
    const { event, row } = validEvent(c, uuid);
    const e: Record<string, unknown> = { ...event, op: 'd' };
    if (how === 'no before') delete e.before;
    if (how === 'before {}') e.before = {};
    if (how === 'before and after null') e.after = null;
    return { variant: how, key: keyOf(row.id), value: json(e), ch: chError(chNo('before.id')), proc: dlq(P_SHAPE) };
  });

/** ~1 MB values (the broker's limit is 1 MiB per batch; the DLQ copy adds headers, so stay below). */
const huge = (t: TopicKind): fc.Arbitrary<Recipe>[] => {
  const size = fc.integer({ min: 850_000, max: 950_000 });
  const ch = fc.constantFrom(...'abcxyzÅé字');
  const list: fc.Arbitrary<Recipe>[] = [
    fc.record({ n: size, ch, uuid: fc.uuid({ version: 4 }) }).map(({ n, ch: x, uuid }) => (c: Ctx): Built => {
      const { event, row } = validEvent(c, uuid);
      const e = setPath(setPath(event, `after.${textField(t)}`, x.repeat(Math.floor(n / Buffer.byteLength(x)))), 'op', DELETE);
      return { variant: 'event without op, ~1 MB string', key: keyOf(row.id), value: json(e), ch: chError(CH_OP), proc: dlq(P_SHAPE) };
    }),
    fc.record({ n: size, ch }).map(({ n, ch: x }) => (c: Ctx): Built => ({
      variant: '~1 MB of text',
      key: keyOf(c.fresh().id),
      value: Buffer.from(x.repeat(Math.floor(n / Buffer.byteLength(x)))),
      ch: BY_BYTES,
      proc: dlq(P_JSON),
    })),
  ];
  if (t === 'users') {
    // Not for telemetry: an accepted ~1 MB event also goes to the processor's Avro output,
    // whose produce request can exceed the broker's limit (a stall: see the end of
    // tests/bad-messages.int.test.ts).
    list.push(
      fc.record({ n: size, uuid: fc.uuid({ version: 4 }) }).map(({ n, uuid }) => (c: Ctx): Built => {
        const { event, row } = validEvent(c, uuid);
        return {
          variant: 'valid event, ~1 MB name',
          key: keyOf(row.id),
          value: json(setPath(event, 'after.name', 'n'.repeat(n))),
          ch: { kind: 'stored', rows: [row] },
          proc: dlq(P_SHAPE),
          finding: 'users: a ~1 MB name (PostgreSQL allows 200 characters) is stored by ClickHouse: nothing checks sizes there (the processor dead-letters it)',
        };
      }),
    );
  }
  return list;
};

const deep = (): fc.Arbitrary<Recipe> =>
  fc.oneof(
    fc.integer({ min: 2, max: 20_000 }).map((d) => (c: Ctx): Built => ({
      variant: `[ × ${d}`,
      key: keyOf(c.fresh().id),
      value: Buffer.from('['.repeat(d) + ']'.repeat(d)),
      ch: BY_BYTES,
      proc: dlq(P_SHAPE),
    })),
    fc.integer({ min: 1, max: 20_000 }).map((d) => (c: Ctx): Built => ({
      variant: `{"a": × ${d}`,
      key: keyOf(c.fresh().id),
      value: Buffer.from('{"a":'.repeat(d) + '1' + '}'.repeat(d)),
      // An object no deeper than simdjson reads: no op. Deeper: not JSON to ClickHouse (chByBytes).
      ch: chError(CH_OP),
      proc: dlq(P_SHAPE),
    })),
    // Beyond simdjson's depth limit (1024) ClickHouse cannot read the document at all. At most
    // ~100 KB each: the processor dead-letters a batch's poison messages in one request (< 1 MiB).
    fc.record({ d: fc.integer({ min: 2_000, max: 20_000 }), uuid: fc.uuid({ version: 4 }) }).map(({ d, uuid }) => (c: Ctx): Built => {
      const { event, row } = validEvent(c, uuid);
      const text = JSON.stringify(event).replace('"op":', `"extra":${'['.repeat(d)}${']'.repeat(d)},"op":`);
      return {
        variant: `valid event + extra field nested ${d} deep`,
        key: keyOf(row.id),
        value: Buffer.from(text),
        ch: BY_BYTES,
        proc: { kind: 'accepted', enriched: c.t === 'telemetry' ? { uuid, id: row.id } : undefined },
        finding:
          'a valid change with an unknown field nested deeper than 1024 levels: ClickHouse cannot read the document (kafka_errors: not JSON), the processor ignores the field and processes the change',
      };
    }),
  );

const wireUnknownId = (): fc.Arbitrary<Recipe> =>
  fc.record({ id: fc.integer({ min: 1_000_000_000, max: 2 ** 31 - 1 }), body: fc.uint8Array({ minLength: 1, maxLength: 64 }) }).map(({ id, body }) => (c) => {
    const head = Buffer.alloc(5);
    head.writeInt32BE(id, 1);
    return { variant: `schema id ${id}`, key: keyOf(c.fresh().id), value: Buffer.concat([head, body]), ch: BY_BYTES, proc: dlq(P_AVRO) };
  });

const wireGarbageBody = (o: CorpusOptions): fc.Arbitrary<Recipe> => {
  // Parsed as the processor's registry client parses it (createSchemaRegistry's options, copied: avsc adds its registry to them).
  const type = avsc.Type.forSchema(o.probe.schema as avsc.Schema, { ...AVRO_OPTIONS } as unknown as Partial<avsc.ForSchemaOptions>);
  return fc.uint8Array({ minLength: 1, maxLength: 64 }).map((body) => (c) => {
    const head = Buffer.alloc(5);
    head.writeInt32BE(o.probe.id, 1);
    // Mostly undecodable; a body that happens to decode is a record, not a change event.
    let decodes = true;
    try {
      type.fromBuffer(Buffer.from(body));
    } catch {
      decodes = false;
    }
    return {
      variant: decodes ? 'decodes, not an event' : 'undecodable',
      key: keyOf(c.fresh().id),
      value: Buffer.concat([head, body]),
      ch: BY_BYTES,
      proc: dlq(decodes ? P_SHAPE : P_AVRO),
    };
  });
};

const concatenated = (): fc.Arbitrary<Recipe> =>
  fc.record({ sep: fc.constantFrom('', ',', '\n', ' '), how: fc.constantFrom('two events', 'two non-events', 'event then garbage'), a: fc.uuid({ version: 4 }), b: fc.uuid({ version: 4 }) }).map(
    ({ sep, how, a, b }) =>
      (c) => {
        if (how === 'two non-events') {
          return { variant: `${how} sep ${JSON.stringify(sep)}`, key: keyOf(c.fresh().id), value: Buffer.from(`{"n":1}${sep}{"n":2}`), ch: BY_BYTES, proc: dlq(P_JSON) };
        }
        const first = validEvent(c, a);
        if (how === 'event then garbage') {
          return { variant: how, key: keyOf(first.row.id), value: Buffer.from(`${JSON.stringify(first.event)} trailing`), ch: BY_BYTES, proc: dlq(P_JSON) };
        }
        const second = validEvent(c, b);
        return {
          variant: `${how} sep ${JSON.stringify(sep)}`,
          key: keyOf(first.row.id),
          value: Buffer.from(`${JSON.stringify(first.event)}${sep}${JSON.stringify(second.event)}`),
          ch: BY_BYTES,
          proc: dlq(P_JSON),
        };
      },
  );

const duplicateKeys = (): fc.Arbitrary<Recipe> =>
  fc.record({ how: fc.constantFrom('op c then x', 'op x then c', 'id twice'), uuid: fc.uuid({ version: 4 }) }).map(({ how, uuid }) => (c) => {
    const { event, row } = validEvent(c, uuid);
    const enriched = (id: number) => (c.t === 'telemetry' ? { uuid, id } : undefined);
    const finding =
      'duplicate keys: ClickHouse (simdjson) takes the first occurrence, JSON.parse the last, so the two consumers read different changes from one message';
    if (how === 'id twice') {
      const other = c.fresh();
      const { id: _id, ...rest } = event.after as Record<string, unknown>;
      const after = `{"id":${row.id},${JSON.stringify(rest).slice(1, -1)},"id":${other.id}}`;
      const text = JSON.stringify({ ...event, after: '@@AFTER@@' }).replace('"@@AFTER@@"', after);
      // ClickHouse stores the first id, the processor enriches the last.
      return { variant: how, key: keyOf(row.id), value: Buffer.from(text), ch: { kind: 'stored', rows: [row] }, proc: { kind: 'accepted', enriched: enriched(other.id) }, finding };
    }
    const [first, last] = how === 'op c then x' ? ['c', 'x'] : ['x', 'c'];
    const { op: _op, ...rest } = event;
    const text = `{"op":"${first}",${JSON.stringify(rest).slice(1, -1)},"op":"${last}"}`;
    return first === 'c'
      ? { variant: how, key: keyOf(row.id), value: Buffer.from(text), ch: { kind: 'stored', rows: [row] }, proc: dlq(P_SHAPE), finding }
      : { variant: how, key: keyOf(row.id), value: Buffer.from(text), ch: chError(CH_OP), proc: { kind: 'accepted', enriched: enriched(row.id) }, finding };
  });

const whitespace = (): fc.Arbitrary<Recipe> =>
  fc.array(fc.constantFrom(...CH_WS), { minLength: 1, maxLength: 20 }).map((ws) => (c) => ({
    variant: `${ws.length} whitespace bytes`,
    key: keyOf(c.fresh().id),
    value: Buffer.from(ws),
    ch: BY_BYTES,
    proc: dlq(P_JSON),
  }));

/** Not a tombstone (the value is not null) but empty: both paths skip it, ClickHouse counts it; on a compacted topic it is kept like a value. */
const empty = (): fc.Arbitrary<Recipe> =>
  fc.constant((c: Ctx): Built => ({ variant: 'zero-length value', key: keyOf(c.fresh().id), value: Buffer.alloc(0), ch: BY_BYTES, proc: { kind: 'tombstone' } }));

// ---------------------------------------------------------------- the corpus

export const CLASSES = [
  'random-bytes',
  'non-utf8',
  'truncated-json',
  'array',
  'scalar',
  'missing-field',
  'wrong-type',
  'op-x',
  'delete-without-before',
  'huge',
  'deep-nesting',
  'wire-unknown-schema',
  'wire-garbage-body',
  'concatenated',
  'duplicate-keys',
  'whitespace',
  'empty',
  'sentinel',
] as const;

type ClassSpec = [cls: (typeof CLASSES)[number], arb: fc.Arbitrary<Recipe>, count: number];

function classArbitraries(t: TopicKind, o: CorpusOptions): ClassSpec[] {
  const r = o.runs;
  return [
    ['random-bytes', randomBytes(), r],
    ['non-utf8', nonUtf8(), r],
    ['truncated-json', truncated(), r],
    ['array', arrays(), r],
    ['scalar', scalars(), r],
    ['missing-field', missingField(t), r],
    ['wrong-type', wrongType(t), 2 * r],
    ['op-x', opX(), r],
    ['delete-without-before', deleteWithoutBefore(), Math.ceil(r / 2)],
    ...huge(t).map((a): ClassSpec => ['huge', a, 1]),
    ['deep-nesting', deep(), Math.ceil(r / 2)],
    ['wire-unknown-schema', wireUnknownId(), Math.ceil(r / 2)],
    ['wire-garbage-body', wireGarbageBody(o), Math.ceil(r / 2)],
    ['concatenated', concatenated(), r],
    ['duplicate-keys', duplicateKeys(), r],
    ['whitespace', whitespace(), Math.ceil(r / 4)],
    ['empty', empty(), 1],
  ];
}

/**
 * A value that is not one JSON object gets its ClickHouse verdict from its bytes,
 * whatever the recipe's class; a recipe that leaves it to the bytes (BY_BYTES) for a
 * value that is an object is an oracle bug.
 */
function withClickHouseVerdict(m: BadMessage): BadMessage {
  const byBytes = chByBytes(m.value);
  if (byBytes) return { ...m, ch: byBytes };
  if (m.ch.kind === 'by-bytes') throw new Error(`oracle: ${m.topic} ${m.cls} / ${m.variant} is one JSON object; its recipe must say what ClickHouse does with it`);
  return m;
}

/** The corpus of one topic, in a seeded random order, with one sentinel per partition last. */
export function corpus(t: TopicKind, o: CorpusOptions): BadMessage[] {
  let n = 0;
  const salt = t === 'users' ? 0 : 1_000_003;
  const ctx: Ctx = {
    o,
    t,
    fresh: () => {
      n++;
      return { id: -(o.idBase + (t === 'users' ? 0 : 500_000) + n), lsn: LSN_BASE + salt + n };
    },
  };
  const out: BadMessage[] = [];
  classArbitraries(t, o).forEach(([cls, arb, count], i) => {
    for (const recipe of fc.sample(arb, { seed: o.seed + salt + i * 7919, numRuns: count })) out.push(withClickHouseVerdict({ topic: t, cls, ...recipe(ctx) }));
  });
  // Shuffle with the seed (fast-check's own generator, through a permutation arbitrary).
  const order = fc.sample(fc.shuffledSubarray([...out.keys()], { minLength: out.length, maxLength: out.length }), { seed: o.seed + salt, numRuns: 1 })[0]!;
  const shuffled = order.map((i) => out[i]!);
  // The last message of every partition: refused by both paths, so once it is in
  // kafka_errors and in the DLQ, both consumers are past everything before it.
  for (let p = 0; p < o.partitions[t]; p++) {
    shuffled.push({
      topic: t,
      cls: 'sentinel',
      variant: `partition ${p}`,
      key: keyOf(ctx.fresh().id),
      value: Buffer.from(`sentinel ${o.run} p${p} {`),
      partition: p,
      ch: chError(CH_NOT_JSON),
      proc: dlq(P_JSON),
    });
  }
  return shuffled;
}
