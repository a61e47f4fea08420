/**
 * Bad-input corpus for the Telemetry API, property-based (fast-check): thousands of
 * events, batches, paths and byte strings that are invalid by construction, sent over
 * real HTTP to the app on its own port, against the real telemetry_db. Every answer
 * must be a 4xx application/problem+json with type/title/status (422: `errors` naming
 * exactly the broken fields), in bounded time, and nothing may be stored. The one
 * documented exception is a batch whose envelope is fine: it is answered item by item
 * (200), and there every item must come back `invalid` with exactly its broken fields.
 * A smaller property sends valid but hostile events (SQL metacharacters, RTL, emoji,
 * combining marks, labels at their maximum length, numbers at the int32 and float
 * edges, the first and last storable instants as the API states them) through both
 * routes and reads them back exactly.
 *
 * Size and reproduction: FUZZ_RUNS (default 2000) is the number of invalid requests
 * this file sends; FUZZ_SEED (default printed in the summary line) replays a run.
 *
 * Rows of other suites and engineers share the table: every invalid event carries a
 * fresh event_uuid, recorded, and a user_id in [USER_BASE, USER_BASE + 50,000) (the
 * valid ones use the other half of this file's random range); the check at the end
 * looks at those only, and clean-up deletes only this file's range.
 */
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { createTelemetryDb, type TelemetryDb } from '@cdc/db/telemetry';
import { startServer, type RunningServer } from '@cdc/http';
import { LIMITS } from '@cdc/schemas';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/app.js';
import { INSTANT_RANGE_MESSAGE } from '../src/instant.js';
import { BATCH_MAX_BODY_BYTES, SINGLE_MAX_BODY_BYTES } from '../src/limits.js';
import { admin, DATABASE_URL, deleteTestRows, storedRow, USER_BASE, USER_SPAN } from './support.js';

// ---------------------------------------------------------------- configuration

const envInt = (name: string, fallback: number): number => {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n)) throw new Error(`${name} must be an integer, got ${raw}`);
  return n;
};

/** Invalid requests sent by this file (split over the properties below). */
const FUZZ_RUNS = Math.max(50, envInt('FUZZ_RUNS', 2000));
const SEED = envInt('FUZZ_SEED', 20_261_125);
/** No single answer may take longer: a hang fails the property with a TimeoutError. */
const REQUEST_TIMEOUT_MS = 10_000;
const TEST_TIMEOUT_MS = Math.max(120_000, FUZZ_RUNS * 100);
const runs = (share: number) => Math.max(10, Math.round(FUZZ_RUNS * share));

/** user_id ranges: invalid events in the lower half of this file's range, valid ones in the upper. */
const INVALID_USERS = { from: USER_BASE, to: USER_BASE + USER_SPAN / 2 };
const VALID_USERS = { from: USER_BASE + USER_SPAN / 2, to: USER_BASE + USER_SPAN };

/**
 * The storable instants, as the API states them in its error message (the range may
 * change; the test follows it): canonical UTC with six fractional digits.
 */
const [FIRST_INSTANT, LAST_INSTANT] = (INSTANT_RANGE_MESSAGE.match(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z/g) ?? []).map(canonical);
if (!FIRST_INSTANT || !LAST_INSTANT) throw new Error(`no instant range in "${INSTANT_RANGE_MESSAGE}"`);
const FIRST_YEAR = Number(FIRST_INSTANT.slice(0, 4));
const LAST_YEAR = Number(LAST_INSTANT.slice(0, 4));

function canonical(iso: string): string {
  const [, base, frac = ''] = /^(.{19})(?:\.(\d+))?Z$/.exec(iso)!;
  return `${base}.${frac.padEnd(6, '0')}Z`;
}

/** The canonical instant one microsecond from a canonical one (years 0000–9999). */
function oneMicrosecond(iso: string, direction: 1 | -1): string {
  let ms = Date.parse(`${iso.slice(0, 23)}Z`);
  let micros = Number(iso.slice(23, 26)) + direction;
  if (micros < 0 || micros > 999) {
    ms += direction;
    micros = direction > 0 ? 0 : 999;
  }
  return `${new Date(ms).toISOString().slice(0, 23)}${String(micros).padStart(3, '0')}Z`;
}

/** Every event_uuid an invalid request carried (in any position): none may be stored. */
const invalidUuids = new Set<string>();
/** Valid hostile events this file stored. */
const validUuids: string[] = [];

// ---------------------------------------------------------------- JSON as written

/** Text sent verbatim: numbers JSON.stringify cannot write (1e999, 30 digits), deep nesting. */
class Raw {
  constructor(readonly text: string) {}
}
/** A JSON object as an ordered member list: duplicate keys and "__proto__" stay as written. */
class Obj {
  constructor(readonly members: ReadonlyArray<readonly [string, Json]>) {}
}
type Json = null | boolean | number | string | Raw | Obj | Json[];

function toJson(v: Json): string {
  if (v instanceof Raw) return v.text;
  if (v instanceof Obj) return `{${v.members.map(([k, x]) => `${JSON.stringify(k)}:${toJson(x)}`).join(',')}}`;
  if (Array.isArray(v)) return `[${v.map(toJson).join(',')}]`;
  if (typeof v === 'number' && !Number.isFinite(v)) throw new Error('not JSON: use Raw');
  return JSON.stringify(v);
}

/** fast-check's JSON values (plain objects) → Json. */
function fromPlain(v: unknown): Json {
  if (v === null || typeof v === 'boolean' || typeof v === 'number' || typeof v === 'string') return v;
  if (Array.isArray(v)) return v.map(fromPlain);
  return new Obj(Object.entries(v as object).map(([k, x]) => [k, fromPlain(x)] as const));
}

const utf8 = (s: string) => new Uint8Array(Buffer.from(s, 'utf8'));

// ---------------------------------------------------------------- hostile text

/** Storable pieces of hostile text: every one is well-formed UTF-16 without NUL, and none holds '@'. */
const HOSTILE = [
  "'", '"', '\\', '`', ';', '--', '/*', '*/', '%', '_', '$1', '?', ':name', '\\x00', '\\0', '%00', '%s%n', '\\N',
  "' OR '1'='1", "'); DROP TABLE users; --", "Robert'); DROP TABLE Students;--", '1; SELECT pg_sleep(10)', '$$', '$tag$',
  "E'\\\\'", '{', '}', ',', '[', ']', '(', ')', 'NULL', 'null', 'undefined', 'NaN', 'true', '<script>alert(1)</script>',
  '${7*7}', '{{7*7}}', '__proto__', 'constructor', '\u202E', '\u202D', '\u200F', '\u200E', '\u061C', 'مرحبا', 'שלום',
  '\u200B', '\u200D', '\u2060', '\uFEFF', '\u00AD', 'e\u0301', 'a\u0300\u0301\u0302\u0303\u0304',
  'Z\u0351\u036B\u0343\u036A\u0302\u036B\u033D\u034F\u0334\u0319', '😀', '👩‍👩‍👧‍👦', '🇺🇦', '👍🏽', '𝕏𝔂𝔃', '\u{10FFFF}', '\uFFFD',
  '\uFFFF', '\uFFFE', 'ß', 'İ', 'ı', 'ﬃ', 'Ω', 'Ǆ', 'ǅ', 'ΣΑΣ', 'Straße', '\u0001', '\u001F', '\u007F', '\u0085',
  '\u2028', '\u2029', '\t', '\n', '\r\n', '\u00A0', '\u3000', ' ', '中文', '日本語', 'ꙮ', 'Olena', 'x', 'Y', '0', '9',
] as const;
/** What JS trim() and the regex \s treat as white space. */
const WHITESPACE = [' ', '\t', '\n', '\r', '\v', '\f', '\u00A0', '\u1680', '\u2003', '\u200A', '\u2028', '\u2029', '\u202F', '\u205F', '\u3000', '\uFEFF'];
/** Pieces PostgreSQL text cannot hold as sent: NUL, unpaired surrogates (each kept unpaired by 'x' around it). */
const UNSTORABLE = ['\u0000', '\uD800', '\uDBFF', '\uDC00', '\uDFFF'];

const hostile = (minChunks: number, maxChunks: number) =>
  fc.array(fc.constantFrom(...HOSTILE), { minLength: minChunks, maxLength: maxChunks }).map((a) => a.join(''));

const wellFormed = (s: string) => !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);

/** Lengths are code points, as both zod's max() and PostgreSQL's varchar(n) count them. */
const codePoints = (s: string) => [...s].length;

/** The first n code points. */
function clip(s: string, n: number): string {
  const cps = [...s];
  return cps.length <= n ? s : cps.slice(0, Math.max(0, n)).join('');
}

/** n code points: 'x', then the hostile piece and 'y' repeated, cut to length. */
function stretch(piece: string, n: number): string {
  return clip(`x${`${piece}y`.repeat(Math.ceil(n / (codePoints(piece) + 1)))}`, n);
}

/** Hostile text whose trimmed form is 1..max code points; sometimes exactly max; sometimes padded with white space. */
function validText(max: number): fc.Arbitrary<string> {
  const core = fc.oneof(
    { weight: 3, arbitrary: hostile(1, 10).map((s) => clip(s, max)) },
    { weight: 1, arbitrary: hostile(1, 6).map((h) => stretch(h, max)) },
  );
  const pad = fc.array(fc.constantFrom(...WHITESPACE), { maxLength: 3 }).map((a) => a.join(''));
  return fc.tuple(pad, core, pad).map(([a, s, b]) => `${a}${s}${b}`).filter((s) => s.trim().length > 0);
}

/** Longer than max code points after trimming (it ends in 'x' … 'z'). Occasionally huge (then maybe 413). */
function overLong(max: number): fc.Arbitrary<string> {
  const length = fc.oneof({ weight: 6, arbitrary: fc.integer({ min: max + 1, max: max + 80 }) }, { weight: 1, arbitrary: fc.integer({ min: max + 1, max: 70_000 }) });
  return fc.tuple(hostile(1, 6), length).map(([h, n]) => `${stretch(h, n - 1)}z`);
}

/** Within max code points, but holding NUL or an unpaired surrogate. */
function unstorable(max: number): fc.Arbitrary<string> {
  const room = Math.floor((max - 3) / 2);
  return fc
    .tuple(hostile(0, 4), fc.constantFrom(...UNSTORABLE), hostile(0, 4))
    .map(([a, bad, b]) => `${clip(a, room)}x${bad}x${clip(b, room)}`);
}

// ---------------------------------------------------------------- invalid values

const finiteDouble = fc.double({ noNaN: true, noDefaultInfinity: true });
/** Out of int32 (and of every range below) or not finite once parsed. */
const HUGE_NUMBERS = [
  '1e999', '-1e999', '1E400', '-1E400', '123456789012345678901234567890', '-123456789012345678901234567890',
  '2147483648', '-2147483649', '4294967296', '9007199254740993', '1.7976931348623157e309',
].map((t) => new Raw(t));

const anyJson: fc.Arbitrary<Json> = fc.jsonValue({ maxDepth: 3 }).map(fromPlain);
const deepNest: fc.Arbitrary<Json> = fc
  .tuple(fc.integer({ min: 50, max: 15_000 }), fc.boolean())
  .map(([d, arrays]) => new Raw(arrays ? '['.repeat(d) + ']'.repeat(d) : '{"a":'.repeat(d) + '0' + '}'.repeat(d)));
const jsonObject: fc.Arbitrary<Json> = fc
  .array(fc.tuple(fc.oneof(fc.string(), fc.constantFrom('__proto__', 'constructor', 'prototype')), anyJson), { maxLength: 4 })
  .map((m) => new Obj(m));

/** Anything but a string or null. */
const nonString: fc.Arbitrary<Json> = fc.oneof(
  fc.boolean(),
  fc.integer(),
  finiteDouble,
  fc.constantFrom(...HUGE_NUMBERS),
  fc.array(anyJson, { maxLength: 4 }),
  jsonObject,
  deepNest,
);
const nonStringOrNull = fc.oneof({ weight: 6, arbitrary: nonString }, { weight: 1, arbitrary: fc.constant(null) });
const whitespaceOnly = fc.array(fc.constantFrom(...WHITESPACE), { maxLength: 6 }).map((a) => a.join(''));


function invalidInt(min: number, max: number, nullable: boolean): fc.Arbitrary<Json> {
  return fc.oneof(
    fc.double({ min: max + 1, max: Number.MAX_VALUE, noNaN: true }),
    fc.double({ min: -Number.MAX_VALUE, max: min - 1, noNaN: true }),
    finiteDouble.filter((x) => !Number.isInteger(x)),
    fc.constantFrom(...HUGE_NUMBERS),
    fc.integer({ min, max }).map(String), // a number in a string
    hostile(0, 3),
    fc.boolean(),
    fc.array(anyJson, { maxLength: 3 }),
    jsonObject,
    deepNest,
    ...(nullable ? [] : [fc.constant(null)]),
  );
}


const FIELDS = ['event_uuid', 'user_id', 'prosthesis_type', 'muscle_group', 'signal_frequency', 'signal_duration', 'signal_amplitude', 'event_timestamp'] as const;
type Field = (typeof FIELDS)[number];
const REQUIRED: readonly Field[] = FIELDS.filter((f) => f !== 'event_uuid');
const LABEL_MAX = LIMITS.labelLength;

/** A fresh v4 uuid, recorded: if it is ever stored, the check at the end finds it. */
const freshUuid = fc.constant(null).map(() => {
  const uuid = randomUUID();
  invalidUuids.add(uuid);
  return uuid;
});

/** Strings that break RFC 9562's shape as the contract states it (z.uuid()), each made from a fresh uuid. */
const notAUuid: fc.Arbitrary<Json> = fc.oneof(
  fc.tuple(freshUuid, fc.nat(35)).map(([u, i]) => u.slice(0, i) + u.slice(i + 1)), // one character short
  fc.tuple(freshUuid, fc.nat(36), fc.constantFrom('0', 'a', 'F')).map(([u, i, c]) => u.slice(0, i) + c + u.slice(i)), // one too many
  fc
    .tuple(freshUuid, fc.nat(35), fc.constantFrom('g', 'G', 'z', ' ', '\u0000', 'é', '😀', "'", '%', '_', '\u0660'))
    .map(([u, i, c]) => u.slice(0, i) + c + u.slice(i + 1)), // a non-hex character
  fc.tuple(freshUuid, fc.constantFrom('0', '9', 'a', 'f')).map(([u, c]) => `${u.slice(0, 14)}${c}${u.slice(15)}`), // version 0, 9-f
  fc.tuple(freshUuid, fc.constantFrom('0', '7', 'c', 'f')).map(([u, c]) => `${u.slice(0, 19)}${c}${u.slice(20)}`), // variant
  freshUuid.map((u) => u.replace(/-/g, '')),
  freshUuid.map((u) => `{${u}}`),
  freshUuid.map((u) => `urn:uuid:${u}`),
  fc.tuple(freshUuid, fc.constantFrom(...WHITESPACE)).map(([u, ws]) => `${ws}${u}`),
  fc.tuple(freshUuid, fc.constantFrom(...WHITESPACE)).map(([u, ws]) => `${u}${ws}`),
  freshUuid.map((u) => `${u}${u}`),
  freshUuid.map((u) => `${u}'; DROP TABLE telemetry_events; --`),
  fc.constantFrom('', 'null', 'undefined', "' OR '1'='1", '00000000-0000-0000-0000-00000000000', 'gggggggg-gggg-4ggg-8ggg-gggggggggggg'),
  hostile(1, 5),
);

/** Neither an ISO 8601 date-time with offset nor an instant between 0001-01-01 and 9999-12-31 (UTC). */
const BAD_TIMESTAMPS = [
  '2026-13-01T00:00:00Z', '2026-00-10T00:00:00Z', '2026-02-30T00:00:00Z', '2025-02-29T00:00:00Z', '2026-04-31T00:00:00Z',
  '2026-11-25T24:00:00Z', '2026-11-25T12:60:00Z', '2026-11-25T12:00:60Z', '2026-11-25T12:00:00', '2026-11-25', '12:00:00Z',
  '2026-11-25T12:00Z', '2026-11-25 12:00:00Z', '2026-11-25t12:00:00z', '2026-11-25T12:00:00+0200', '2026-11-25T12:00:00+24:00',
  '2026-11-25T12:00:00+05:60', '2026-11-25T12:00:00.Z', '2026-11-25T12:00:00,5Z', '+002026-11-25T12:00:00Z',
  '10000-01-01T00:00:00Z', '0000-01-01T00:00:00Z', '0000-06-15T12:00:00.5+03:00', ' 2026-11-25T12:00:00Z', '2026-11-25T12:00:00Z ',
  '2026-11-25T12:00:00Z\n', '2026-11-25T12:00:00Z\u0000', 'now', 'today', 'epoch', 'infinity', '-infinity', '1764072000',
  'Tue, 25 Nov 2026 12:00:00 GMT', "2026-11-25T12:00:00Z'; DROP TABLE telemetry_events; --", '', '２０２６-11-25T12:00:00Z',
  // Just outside the storable range: a microsecond, a minute of offset, rounding of a seventh digit.
  oneMicrosecond(FIRST_INSTANT, -1),
  oneMicrosecond(LAST_INSTANT, 1),
  FIRST_INSTANT.replace('Z', '+00:01'),
  LAST_INSTANT.replace('Z', '-00:01'),
  LAST_INSTANT.replace('Z', '6Z'),
];

const label = (max: number) => fc.oneof(nonStringOrNull, whitespaceOnly, overLong(max), unstorable(max));

/** Per field: values that break the contract or the storage rules for that field alone. */
const INVALID: Record<Field, fc.Arbitrary<Json>> = {
  event_uuid: fc.oneof({ weight: 1, arbitrary: nonStringOrNull }, { weight: 3, arbitrary: notAUuid }),
  user_id: invalidInt(1, LIMITS.int32Max, false),
  prosthesis_type: label(LABEL_MAX),
  muscle_group: label(LABEL_MAX),
  signal_frequency: invalidInt(1, LIMITS.int32Max, false),
  signal_duration: invalidInt(0, LIMITS.int32Max, false),
  signal_amplitude: fc.oneof(
    fc.constantFrom(...['1e999', '-1e999', '1E400', '-1E400', '1.7976931348623157e309'].map((t) => new Raw(t))),
    finiteDouble.map(String), // a number in a string
    fc.constantFrom(null, true, false, 'NaN', 'Infinity', ''),
    fc.array(finiteDouble, { minLength: 1, maxLength: 3 }),
    jsonObject,
    deepNest,
  ),
  event_timestamp: fc.oneof(nonStringOrNull, fc.constantFrom(...BAD_TIMESTAMPS), hostile(1, 4)),
};

const UNKNOWN_KEYS = [
  '__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty', 'id', 'saved_ts', 'request_id',
  'eventUuid', 'userId', 'USER_ID', ' user_id', 'user_id ', 'user_id\u0000', '', 'ｕｓｅｒ_ｉｄ', 'signal_amplitude\u200B',
  '$where', "user_id'--", 'event', 'events',
];
const unknownKey = fc
  .oneof(fc.constantFrom(...UNKNOWN_KEYS), hostile(1, 3), fc.string())
  .filter((k) => !(FIELDS as readonly string[]).includes(k));

// ---------------------------------------------------------------- events invalid by construction

type Op =
  | { op: 'corrupt'; field: Field; value: Json; duplicate: boolean }
  | { op: 'drop'; field: Field }
  | { op: 'unknown'; key: string; value: Json; first: boolean };
type Noise = { op: 'shadow'; field: Field; value: Json } | { op: 'dropUuid'; field: Field };
type Wrap = 'none' | 'array' | 'scalar' | 'nest' | 'deep';

const corruptOp: fc.Arbitrary<Op> = fc
  .constantFrom(...FIELDS)
  .chain((field) => fc.record({ op: fc.constant('corrupt' as const), field: fc.constant(field), value: INVALID[field], duplicate: fc.boolean() }));
const dropOp: fc.Arbitrary<Op> = fc.record({ op: fc.constant('drop' as const), field: fc.constantFrom(...REQUIRED) });
const unknownOp: fc.Arbitrary<Op> = fc.record({ op: fc.constant('unknown' as const), key: unknownKey, value: anyJson, first: fc.boolean() });
const noiseOp: fc.Arbitrary<Noise> = fc.oneof(
  fc.record({ op: fc.constant('shadow' as const), field: fc.constantFrom(...FIELDS), value: fc.oneof(anyJson, hostile(0, 3)) }),
  fc.record({ op: fc.constant('dropUuid' as const), field: fc.constant('event_uuid' as const) }),
);
const wrap: fc.Arbitrary<Wrap> = fc.oneof(
  { weight: 12, arbitrary: fc.constant('none' as const) },
  { weight: 1, arbitrary: fc.constantFrom('array' as const, 'scalar' as const, 'nest' as const, 'deep' as const) },
);

interface Built {
  body: Json;
  /** The error paths the answer must list, exactly. */
  paths: string[];
  /** The event_uuid a batch result must echo: the item's own, when it is still a valid one. */
  uuid?: string;
  ops: string;
}

/**
 * Applies neutral noise (valid values shadowed by an earlier duplicate key, no
 * event_uuid), then the invalidating operations, tracking which field ends up broken:
 * JSON's last duplicate wins, so that is the value the state follows.
 */
function build(base: Record<Field, Json>, noise: Noise[], ops: Op[], how: Wrap): Built {
  let members: [string, Json][] = FIELDS.map((f) => [f, base[f]]);
  const state = new Map<string, 'valid' | 'invalid'>(members.map(([k]) => [k, 'valid']));
  const without = (key: string) => members.filter(([k]) => k !== key);
  for (const n of noise) {
    if (n.op === 'shadow' && state.get(n.field) === 'valid') members.unshift([n.field, n.value]);
    if (n.op === 'dropUuid') {
      members = without(n.field);
      state.delete(n.field);
    }
  }
  let unknown = false;
  for (const o of ops) {
    if (o.op === 'corrupt') {
      if (o.duplicate) members.push([o.field, o.value]);
      else {
        const at = members.findIndex(([k]) => k === o.field);
        members = without(o.field);
        members.splice(at < 0 ? members.length : at, 0, [o.field, o.value]);
      }
      state.set(o.field, 'invalid');
    } else if (o.op === 'drop') {
      members = without(o.field);
      state.delete(o.field);
    } else {
      if (o.first) members.unshift([o.key, o.value]);
      else members.push([o.key, o.value]);
      unknown = true;
    }
  }
  const paths = new Set<string>();
  for (const [k, s] of state) if (s === 'invalid') paths.add(k);
  for (const f of REQUIRED) if (!state.has(f)) paths.add(f);
  if (unknown) paths.add('');
  const obj = new Obj(members);
  const ops$ = JSON.stringify([...noise, ...ops].map((o) => `${o.op}:${'field' in o ? o.field : JSON.stringify(o.key)}`));
  switch (how) {
    case 'none': {
      const uuid = state.get('event_uuid') === 'valid' ? (base.event_uuid as string).toLowerCase() : undefined;
      return { body: obj, paths: [...paths].sort(), ops: ops$, ...(uuid ? { uuid } : {}) };
    }
    case 'array':
      return { body: [obj], paths: [''], ops: `${ops$} in an array` };
    case 'scalar':
      return { body: toJson(obj), paths: [''], ops: `${ops$} as a JSON string` };
    case 'nest':
      return { body: new Obj([['event', obj]]), paths: ['', ...REQUIRED].sort(), ops: `${ops$} under "event"` };
    case 'deep':
      return { body: new Raw(`${'['.repeat(2000)}${toJson(obj)}${']'.repeat(2000)}`), paths: [''], ops: `${ops$} 2000 arrays deep` };
  }
}

const int32 = fc.oneof(fc.constantFrom(1, LIMITS.int32Max), fc.integer({ min: 1, max: LIMITS.int32Max }));
/** ISO 8601 in UTC with 0–6 fractional digits, within the storable years, and the expected canonical form. */
const instant: fc.Arbitrary<{ sent: string; stored: string }> = fc.oneof(
  fc
    .record({
      y: fc.integer({ min: FIRST_YEAR, max: LAST_YEAR }),
      mo: fc.integer({ min: 1, max: 12 }),
      d: fc.integer({ min: 1, max: 28 }),
      h: fc.integer({ min: 0, max: 23 }),
      mi: fc.integer({ min: 0, max: 59 }),
      s: fc.integer({ min: 0, max: 59 }),
      frac: fc.stringMatching(/^\d{0,6}$/),
    })
    .map(({ y, mo, d, h, mi, s, frac }) => {
      const p = (n: number, w = 2) => String(n).padStart(w, '0');
      const base = `${p(y, 4)}-${p(mo)}-${p(d)}T${p(h)}:${p(mi)}:${p(s)}`;
      return { sent: `${base}${frac ? `.${frac}` : ''}Z`, stored: `${base}.${frac.padEnd(6, '0')}Z` };
    }),
  fc.constantFrom(
    { sent: FIRST_INSTANT, stored: FIRST_INSTANT },
    { sent: LAST_INSTANT, stored: LAST_INSTANT },
    { sent: '2024-02-29T23:59:59.5Z', stored: '2024-02-29T23:59:59.500000Z' },
    { sent: '2000-02-29T00:00:00.000001Z', stored: '2000-02-29T00:00:00.000001Z' },
  ),
);
const amplitude = fc.oneof(
  finiteDouble,
  fc.constantFrom(Number.MAX_VALUE, -Number.MAX_VALUE, Number.MIN_VALUE, -Number.MIN_VALUE, 2 ** 53 + 2, 0.1 + 0.2, 1e-300, 0, -1.5e-323),
);

/** A valid event (when no operation breaks it) of this file's invalid corpus: fresh recorded uuid, invalid-range user. */
const markedEvent: fc.Arbitrary<Record<Field, Json>> = fc.record({
  event_uuid: freshUuid,
  user_id: fc.integer({ min: INVALID_USERS.from, max: INVALID_USERS.to - 1 }),
  prosthesis_type: hostile(0, 4).map((s) => clip(`Fuzz ${s}`, LABEL_MAX)),
  muscle_group: validText(LABEL_MAX),
  signal_frequency: int32,
  signal_duration: fc.integer({ min: 0, max: LIMITS.int32Max }),
  signal_amplitude: amplitude,
  event_timestamp: instant.map((t) => t.sent),
});

const invalidEvent: fc.Arbitrary<Built> = fc
  .tuple(
    markedEvent,
    fc.array(noiseOp, { maxLength: 3 }),
    fc.array(fc.oneof({ weight: 5, arbitrary: corruptOp }, { weight: 1, arbitrary: dropOp }, { weight: 2, arbitrary: unknownOp }), { minLength: 1, maxLength: 4 }),
    wrap,
  )
  .map(([base, noise, ops, how]) => build(base, noise, ops, how));

const asObj = (e: Record<Field, Json>) => new Obj(FIELDS.map((f) => [f, e[f]] as const));
/** The first member a string that starts with "Fuzz": raw edits go inside it. */
const markedEventFuzzFirst = markedEvent.map((e) => new Obj([['prosthesis_type', e.prosthesis_type], ...FIELDS.filter((f) => f !== 'prosthesis_type').map((f) => [f, e[f]] as const)]));

// ---------------------------------------------------------------- raw bodies: not JSON, not UTF-8, wrong type, too large

interface RawCase {
  what: string;
  body: Uint8Array | (() => ReadableStream<Uint8Array>);
  contentType: string | null;
  /** Status the contract gives; undefined: decided from the bytes (400 unless they are JSON, then 422). */
  status?: number;
}

const INVALID_UTF8: number[][] = [
  [0xff], [0xfe], [0x80], [0xbf], [0xc0, 0x80], [0xc1, 0xbf], [0xe2, 0x82], [0xed, 0xa0, 0x80], [0xed, 0xbf, 0xbf],
  [0xf4, 0x90, 0x80, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xe9, 0x74, 0xe9], [0xf0, 0x9f, 0x98],
];
const WRONG_TYPES = [
  'text/plain', 'text/plain; charset=utf-8', 'text/json', 'text/html', 'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x', 'application/xml', 'application/jsonp', 'application/json5', 'application/javascript',
  'application/octet-stream', 'application/x-json', 'application/jsonx', 'json', 'application', '*/*', 'application/*',
  'application/ json', 'applicationjson', 'application\\json', 'x/json', 'image/png', 'application/json-patch', '',
];
const SYNTAX_TOKENS = ['NaN', 'Infinity', '-Infinity', 'undefined', '01', '+1', '.5', '1.', '0x10', '1e', '--1', 'True', 'nul', "'x'"];

/** JSON text of a valid body whose first member is a string starting with "Fuzz" (so edits inside it are safe). */
function syntaxBreak(text: string): fc.Arbitrary<[string, string]> {
  const at = text.indexOf('"Fuzz') + 1; // inside the first string value
  return fc.oneof(
    fc.constant(['trailing comma', `${text.slice(0, -1)},}`] as [string, string]),
    fc.constant(['single quotes', text.replace(/"/g, "'")] as [string, string]),
    fc.constant(['comment', `{/* x */${text.slice(1)}`] as [string, string]),
    fc.constantFrom('x', '}', '{}', ',', ']', ' 1', 'null', '\u0000').map((g) => [`trailing ${JSON.stringify(g)}`, text + g] as [string, string]),
    fc.constantFrom('x', ',', ")]}'\n", 'for(;;);', '\u0000', '\uFEFF\uFEFF').map((g) => [`leading ${JSON.stringify(g)}`, g + text] as [string, string]),
    fc.constant(['unquoted key', text.replace(/^\{"([a-z_]+)"/, '{$1')] as [string, string]),
    fc.constantFrom(...SYNTAX_TOKENS).map((t) => [`token ${t}`, `${text.slice(0, -1)},"age":${t}}`] as [string, string]),
    fc.integer({ min: 0, max: 0x1f }).map((c) => [`raw U+${c.toString(16)} in a string`, text.slice(0, at) + String.fromCharCode(c) + text.slice(at)] as [string, string]),
    fc.constantFrom('\\x41', '\\u12', '\\U0041', '\\a', '\\').map((e) => [`bad escape ${e}`, text.slice(0, at) + e + text.slice(at)] as [string, string]),
    fc.constantFrom('" "', '",,"', '":"', '""').map((sep) => [`separator ${sep}`, text.replace('","', sep)] as [string, string]),
  );
}

function rawCases(valid: fc.Arbitrary<Json>, limit: number, maxOver: number): fc.Arbitrary<RawCase> {
  const text = valid.map(toJson);
  return fc.oneof(
    text.chain((t) => fc.integer({ min: 0, max: t.length - 1 }).map((i): RawCase => ({ what: `truncated at ${i}`, body: utf8(t.slice(0, i)), contentType: 'application/json', status: 400 }))),
    text.chain((t) => syntaxBreak(t).map(([what, s]): RawCase => ({ what, body: utf8(s), contentType: 'application/json', status: 400 }))),
    fc.tuple(text, fc.constantFrom(...INVALID_UTF8)).map(([t, bad]): RawCase => {
      const at = t.indexOf('"Fuzz') + 5;
      const body = Buffer.concat([Buffer.from(t.slice(0, at)), Buffer.from(bad), Buffer.from(t.slice(at))]);
      return { what: `bytes ${Buffer.from(bad).toString('hex')} in a string`, body: new Uint8Array(body), contentType: 'application/json', status: 400 };
    }),
    fc.tuple(text, fc.constantFrom('utf16le', 'utf16be', 'utf16le-nobom')).map(([t, enc]): RawCase => {
      const le = Buffer.from(t, 'utf16le');
      const bytes = enc === 'utf16le' ? Buffer.concat([Buffer.from([0xff, 0xfe]), le]) : enc === 'utf16be' ? Buffer.concat([Buffer.from([0xfe, 0xff]), le.swap16()]) : le;
      return { what: `JSON in ${enc}`, body: new Uint8Array(bytes), contentType: 'application/json', status: 400 };
    }),
    fc.tuple(text, fc.oneof(fc.constantFrom(...WRONG_TYPES), fc.constant(null), fc.stringMatching(/^x-[!-~]{1,30}$/))).map(
      ([t, type]): RawCase => ({ what: `content-type ${JSON.stringify(type)}`, body: utf8(t), contentType: type, status: 415 }),
    ),
    fc.tuple(text, fc.integer({ min: 1, max: maxOver })).map(([t, over]): RawCase => ({
      what: `padded ${over} bytes over the limit`,
      body: utf8(t + ' '.repeat(limit + over - Buffer.byteLength(t))),
      contentType: 'application/json',
      status: 413,
    })),
    fc.tuple(text, fc.integer({ min: 1, max: maxOver })).map(([t, over]): RawCase => ({
      what: `chunked, ${over} bytes over the limit`,
      body: () => chunked(utf8(t + ' '.repeat(limit + over - Buffer.byteLength(t)))),
      contentType: 'application/json',
      status: 413,
    })),
    fc.constant<RawCase>({ what: 'empty body', body: new Uint8Array(0), contentType: 'application/json', status: 400 }),
    fc
      .string({ unit: fc.constantFrom('{', '}', '[', ']', ':', ',', '"', '\\', '0', '1', '-', 'e', '.', 't', 'r', 'u', 'f', 'a', 'l', 's', 'n', ' ', 'x'), maxLength: 40 })
      .map((s): RawCase => ({ what: `JSON-ish ${JSON.stringify(s)}`, body: utf8(s), contentType: 'application/json' })),
    fc.uint8Array({ maxLength: 64 }).map((b): RawCase => ({ what: `bytes ${Buffer.from(b).toString('hex')}`, body: b, contentType: 'application/json' })),
  );
}

/** Streams the bytes in 16 KiB chunks: no Content-Length, so the limit is enforced while reading. */
function chunked(bytes: Uint8Array): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream({
    pull(controller) {
      if (at >= bytes.length) return controller.close();
      controller.enqueue(bytes.subarray(at, at + 16 * 1024));
      at += 16 * 1024;
    },
  });
}

/** The status for bytes whose fate the contract decides: 400 unless UTF-8 JSON (then always invalid here: 422). */
function statusOfBytes(bytes: Uint8Array): number {
  try {
    JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
    return 422;
  } catch {
    return 400;
  }
}

/** Raw path segments a client might send, each decoding to something that is not a uuid. */
const RAW_SEGMENTS = ['%', '%%', '%ZZ', '%FF', '%C0%80', '%00', '%2e%2e%2f', '1%00', '%20', '%E2%80%AE', 'x%2Fy', '%252F', '%u0031'];

// ---------------------------------------------------------------- the app, the wire, the tally

let db: TelemetryDb;
let server: RunningServer;
const serverErrors: string[] = [];

const tally = { invalid: 0, byStatus: new Map<number, number>(), fiveXX: 0, maxMs: 0, valid: 0, items: 0, started: 0 };

interface Answer {
  status: number;
  headers: Headers;
  text: string;
  ms: number;
}

async function send(method: string, path: string, body?: RawCase['body'], contentType: string | null = 'application/json'): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (contentType !== null && body !== undefined) headers['content-type'] = contentType;
  const started = performance.now();
  const res = await fetch(server.url + path, {
    method,
    headers,
    body: typeof body === 'function' ? body() : body,
    duplex: 'half',
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  } as RequestInit);
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, ms: performance.now() - started };
}

interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail?: string;
  request_id?: string;
  errors?: { path: string; message: string; code?: string }[];
}

function count(a: Answer, what: string): string {
  tally.invalid++;
  tally.byStatus.set(a.status, (tally.byStatus.get(a.status) ?? 0) + 1);
  tally.maxMs = Math.max(tally.maxMs, a.ms);
  if (a.status >= 500) tally.fiveXX++;
  return `${what}\n→ ${a.status} ${a.text.slice(0, 600)}${a.status >= 500 ? `\nserver log: ${serverErrors.at(-1)?.slice(0, 800)}` : ''}`;
}

/** Counts the answer to an invalid request and asserts it is a well-formed problem with an allowed status. */
function problemOf(a: Answer, allowed: readonly number[], what: string): ProblemBody {
  const context = count(a, what);
  expect(allowed, context).toContain(a.status);
  expect(a.headers.get('content-type'), context).toBe('application/problem+json');
  const p = JSON.parse(a.text) as ProblemBody;
  expect(p.type, context).toMatch(/^https:\/\/cdc-pipeline\.local\/problems\/[a-z-]+$/);
  expect(typeof p.title === 'string' && p.title.length > 0, context).toBe(true);
  expect(p.status, context).toBe(a.status);
  expect(p.request_id, context).toBe(a.headers.get('x-request-id'));
  if (a.status === 422) expectIssues(p.errors, context);
  expect(a.ms, context).toBeLessThan(REQUEST_TIMEOUT_MS);
  return p;
}

function expectIssues(errors: ProblemBody['errors'], context: string): void {
  expect(Array.isArray(errors) && errors.length > 0, context).toBe(true);
  for (const e of errors!) {
    expect(typeof e.path, context).toBe('string');
    expect(typeof e.message === 'string' && e.message.length > 0, context).toBe(true);
  }
}

const pathsOf = (errors: ProblemBody['errors']) => [...new Set((errors ?? []).map((e) => e.path))].sort();

const fcOptions = (k: number, numRuns: number) => ({ seed: SEED + k, numRuns });

/** Expected status of a single-event POST whose JSON is fine but whose content is not. */
const singleStatus = (bytes: Uint8Array) => (bytes.length > SINGLE_MAX_BODY_BYTES ? 413 : 422);

beforeAll(async () => {
  const log = pino({ level: 'warn' }, { write: (s: string) => void serverErrors.push(s) });
  db = createTelemetryDb(DATABASE_URL);
  const { app } = createApp({ db, log });
  server = await startServer(app, { host: '127.0.0.1', port: 0, log, graceMs: 2000 });
  tally.started = performance.now();
});

afterAll(async () => {
  await server?.close();
  await db?.close();
  await deleteTestRows();
  if (invalidUuids.size > 0) await admin.query('DELETE FROM telemetry_events WHERE event_uuid = ANY($1::uuid[])', [[...invalidUuids]]);
  await admin.end();
});

// ---------------------------------------------------------------- the properties

describe(`telemetry-api fuzz (seed ${SEED}, ${FUZZ_RUNS} invalid requests)`, { timeout: TEST_TIMEOUT_MS }, () => {
  it('POST /telemetry-events with a corrupted event → 422 naming exactly the broken fields (413 over 64 KiB)', async () => {
    await fc.assert(
      fc.asyncProperty(invalidEvent, async ({ body, paths, ops }) => {
        const text = toJson(body);
        const bytes = utf8(text);
        const expected = singleStatus(bytes);
        const p = problemOf(await send('POST', '/telemetry-events', bytes), [expected], `POST ${ops}: ${text.slice(0, 300)}`);
        if (expected === 422) expect(pathsOf(p.errors), `${ops}: ${text.slice(0, 300)}`).toEqual(paths);
      }),
      fcOptions(1, runs(0.3)),
    );
  });

  it('POST /telemetry-events with bytes that are not JSON, not UTF-8, of the wrong type or too large → 400 / 415 / 413', async () => {
    await fc.assert(
      fc.asyncProperty(rawCases(markedEventFuzzFirst, SINGLE_MAX_BODY_BYTES, 200_000), async (c) => {
        if (c.status === 400 && typeof c.body !== 'function') expect(statusOfBytes(c.body), c.what).toBe(400); // the generator's own promise
        const expected = c.status ?? statusOfBytes(c.body as Uint8Array);
        problemOf(await send('POST', '/telemetry-events', c.body, c.contentType), [expected], `POST ${c.what}`);
      }),
      fcOptions(2, runs(0.15)),
    );
  });

  it('POST /telemetry-events/batch with a bad envelope → 422 naming it; none of its events is stored', async () => {
    const events = fc.array(markedEvent.map(asObj), { minLength: 1, maxLength: 5 });
    const notAList: fc.Arbitrary<Json> = fc.oneof(
      fc.constantFrom(null, true, 0, 'events', ''),
      events.map((evs) => new Obj(evs.map((e, i) => [String(i), e] as const))), // {"0": …}: an object, not a list
      events.map((evs) => evs[0]!), // one event, not a list of them
      fc.integer({ min: 50, max: 10_000 }).map((d) => new Raw('{"a":'.repeat(d) + '0' + '}'.repeat(d))),
      finiteDouble,
    );
    const tooMany = fc
      .tuple(events, fc.integer({ min: LIMITS.batchMaxItems + 1, max: LIMITS.batchMaxItems + 100 }))
      .map(([evs, n]) => new Raw(`[${[...evs.map(toJson), ...Array<string>(n - evs.length).fill('0')].join(',')}]`));
    const envelope = fc.oneof(
      // A fine list beside an unknown member: the whole batch is refused.
      fc.tuple(events, fc.array(fc.tuple(unknownKey.filter((k) => k !== 'events'), anyJson), { minLength: 1, maxLength: 3 }), fc.boolean()).map(([evs, extra, first]) => ({
        body: new Obj(first ? [...extra, ['events', evs] as const] : [['events', evs] as const, ...extra]),
        paths: [''],
      })),
      fc.array(fc.tuple(unknownKey.filter((k) => k !== 'events'), anyJson), { maxLength: 2 }).map((extra) => ({
        body: new Obj(extra),
        paths: extra.length > 0 ? ['', 'events'] : ['events'],
      })),
      notAList.map((v) => ({ body: new Obj([['events', v]]), paths: ['events'] })),
      fc.constant({ body: new Obj([['events', []]]), paths: ['events'] }),
      tooMany.map((v) => ({ body: new Obj([['events', v]]), paths: ['events'] })),
      // Duplicate "events": the fine list first, the last (the one that counts) broken.
      fc.tuple(events, fc.oneof(notAList, fc.constant([] as Json[]))).map(([evs, v]) => ({ body: new Obj([['events', evs], ['events', v]]), paths: ['events'] })),
      events.map((evs) => ({ body: evs as Json, paths: [''] })), // the list itself, no envelope
      fc.constantFrom<Json>(null, 'events', 42, true).map((v) => ({ body: v, paths: [''] })),
    );
    await fc.assert(
      fc.asyncProperty(envelope, async ({ body, paths }) => {
        const text = toJson(body);
        const bytes = utf8(text);
        const expected = bytes.length > BATCH_MAX_BODY_BYTES ? 413 : 422;
        const p = problemOf(await send('POST', '/telemetry-events/batch', bytes), [expected], `batch ${text.slice(0, 300)}`);
        if (expected === 422) expect(pathsOf(p.errors), text.slice(0, 300)).toEqual(paths);
      }),
      fcOptions(3, runs(0.12)),
    );
  });

  it('POST /telemetry-events/batch of corrupted events → 200 with every item invalid, naming exactly its broken fields', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(invalidEvent, { minLength: 1, maxLength: 8 }), async (items) => {
        const text = toJson(new Obj([['events', items.map((i) => i.body)]]));
        const bytes = utf8(text);
        const a = await send('POST', '/telemetry-events/batch', bytes);
        tally.items += items.length;
        if (bytes.length > BATCH_MAX_BODY_BYTES) {
          problemOf(a, [413], `batch of ${items.length}`);
          return;
        }
        const context = count(a, `batch ${items.map((i) => i.ops).join(' | ')}: ${text.slice(0, 300)}`);
        expect(a.status, context).toBe(200);
        expect(a.headers.get('content-type'), context).toMatch(/^application\/json/);
        expect(a.ms, context).toBeLessThan(REQUEST_TIMEOUT_MS);
        const out = JSON.parse(a.text) as {
          summary: Record<string, number>;
          results: { index: number; status: string; event_uuid?: string; errors?: ProblemBody['errors'] }[];
        };
        expect(out.summary, context).toEqual({ inserted: 0, duplicate: 0, conflict: 0, invalid: items.length });
        expect(out.results.length, context).toBe(items.length);
        items.forEach((item, i) => {
          const r = out.results[i]!;
          const where = `${context}\nitem ${i}: ${item.ops}`;
          expect(r.index, where).toBe(i);
          expect(r.status, where).toBe('invalid');
          expectIssues(r.errors, where);
          expect(pathsOf(r.errors), where).toEqual(item.paths);
          expect(r.event_uuid, where).toBe(item.uuid);
        });
      }),
      fcOptions(4, runs(0.13)),
    );
  });

  it('POST /telemetry-events/batch with raw bad bytes → 400 / 415 / 413', async () => {
    const batch = fc.array(markedEventFuzzFirst, { minLength: 1, maxLength: 3 }).map((evs) => new Obj([['events', evs]]));
    await fc.assert(
      fc.asyncProperty(rawCases(batch, BATCH_MAX_BODY_BYTES, 100_000), async (c) => {
        if (c.status === 400 && typeof c.body !== 'function') expect(statusOfBytes(c.body), c.what).toBe(400);
        const expected = c.status ?? statusOfBytes(c.body as Uint8Array);
        problemOf(await send('POST', '/telemetry-events/batch', c.body, c.contentType), [expected], `batch ${c.what}`);
      }),
      fcOptions(5, runs(0.1)),
    );
  });

  it('garbage in the path → 422 naming event_uuid; paths no route has → 404; refused uuids are not found', async () => {
    const looksLikeUuid = (s: string) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s);
    const badSegment = fc
      .oneof(notAUuid.filter((v): v is string => typeof v === 'string'), hostile(1, 6), fc.string({ minLength: 1 }))
      .filter((s) => s !== '' && s !== '.' && s !== '..' && !looksLikeUuid(s) && wellFormed(s));
    const request = fc.oneof(
      badSegment.map((s) => ({ method: 'GET', path: `/telemetry-events/${encodeURIComponent(s)}`, statuses: [422], paths: ['param.event_uuid'] })),
      fc.constantFrom(...RAW_SEGMENTS).map((seg) => ({ method: 'GET', path: `/telemetry-events/${seg}`, statuses: [422], paths: ['param.event_uuid'] })),
      fc.tuple(badSegment, hostile(1, 3)).map(([s, rest]) => ({
        method: 'GET',
        path: `/telemetry-events/${encodeURIComponent(s)}/${encodeURIComponent(rest)}`,
        statuses: [404],
        paths: [],
      })),
      // An event_uuid some invalid request carried: refused, so not there.
      fc.nat().map((i) => ({
        method: 'GET',
        path: `/telemetry-events/${invalidUuids.size > 0 ? [...invalidUuids][i % invalidUuids.size] : randomUUID()}`,
        statuses: [404],
        paths: [],
      })),
      fc.constantFrom('PUT', 'PATCH', 'DELETE').chain((method) =>
        freshUuid.map((u) => ({ method, path: `/telemetry-events/${u}`, statuses: [404], paths: [] })),
      ),
      fc.constantFrom('GET', 'PUT', 'DELETE').map((method) => ({ method, path: '/telemetry-events', statuses: [404], paths: [] })),
    );
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const body = r.method === 'GET' || r.method === 'DELETE' ? undefined : utf8(JSON.stringify({ user_id: INVALID_USERS.from }));
        const p = problemOf(await send(r.method, r.path, body), r.statuses, `${r.method} ${r.path}`);
        if (p.status === 422) expect(pathsOf(p.errors), `${r.method} ${r.path}`).toEqual(r.paths);
      }),
      fcOptions(6, runs(0.2)),
    );
  });

  it('valid but hostile events (SQL metacharacters, RTL, emoji, combining marks, int32 and float edges) are stored and read back exactly', async () => {
    const event = fc.record({
      event_uuid: fc.boolean().map((upper) => (upper ? randomUUID().toUpperCase() : randomUUID())),
      user_id: fc.integer({ min: VALID_USERS.from, max: VALID_USERS.to - 1 }),
      prosthesis_type: validText(LABEL_MAX),
      muscle_group: validText(LABEL_MAX),
      signal_frequency: int32,
      signal_duration: fc.oneof(fc.constantFrom(0, LIMITS.int32Max), fc.integer({ min: 0, max: LIMITS.int32Max })),
      signal_amplitude: amplitude,
      event_timestamp: instant,
    });
    type Ev = typeof event extends fc.Arbitrary<infer T> ? T : never;
    const sent = (e: Ev) => ({ ...e, event_timestamp: e.event_timestamp.sent });
    const expected = (e: Ev) => ({
      event_uuid: e.event_uuid.toLowerCase(),
      user_id: e.user_id,
      prosthesis_type: e.prosthesis_type.trim(),
      muscle_group: e.muscle_group.trim(),
      signal_frequency: e.signal_frequency,
      signal_duration: e.signal_duration,
      signal_amplitude: e.signal_amplitude === 0 ? 0 : e.signal_amplitude, // JSON has no -0
      event_timestamp: e.event_timestamp.stored,
    });
    await fc.assert(
      fc.asyncProperty(event, fc.array(event, { minLength: 1, maxLength: 10 }), async (one, many) => {
        tally.valid += 1 + many.length;
        const created = await send('POST', '/telemetry-events', utf8(JSON.stringify(sent(one))));
        expect(created.status, `${JSON.stringify(sent(one))} → ${created.text}`).toBe(201);
        const want = expected(one);
        validUuids.push(want.event_uuid);
        expect(JSON.parse(created.text)).toMatchObject(want);
        const read = await send('GET', `/telemetry-events/${one.event_uuid}`);
        expect(read.status).toBe(200);
        expect(JSON.parse(read.text)).toMatchObject(want);
        expect(await storedRow(want.event_uuid)).toEqual(want);

        // The batch path writes through PostgreSQL array literals: quoting is where hostile text would bite.
        const batch = await send('POST', '/telemetry-events/batch', utf8(JSON.stringify({ events: many.map(sent) })));
        expect(batch.status, batch.text.slice(0, 600)).toBe(200);
        const out = JSON.parse(batch.text) as { summary: Record<string, number>; results: { status: string; event_uuid: string }[] };
        expect(out.summary, batch.text.slice(0, 600)).toEqual({ inserted: many.length, duplicate: 0, conflict: 0, invalid: 0 });
        for (const [i, e] of many.entries()) {
          const w = expected(e);
          validUuids.push(w.event_uuid);
          expect(out.results[i]).toMatchObject({ status: 'inserted', event_uuid: w.event_uuid });
          expect(await storedRow(w.event_uuid)).toEqual(w);
        }
      }),
      fcOptions(7, Math.max(10, Math.round(FUZZ_RUNS / 40))),
    );
  });

  it('nothing of the invalid corpus was stored; prints the tally', async () => {
    const { rows } = await admin.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM telemetry_events WHERE event_uuid = ANY($1::uuid[]) OR (user_id >= $2 AND user_id < $3)',
      [[...invalidUuids], INVALID_USERS.from, INVALID_USERS.to],
    );
    const stored = rows[0]!.n;
    const byStatus = [...tally.byStatus].sort((a, b) => b[1] - a[1]).map(([s, n]) => `${s}: ${n}`).join(', ');
    const seconds = ((performance.now() - tally.started) / 1000).toFixed(1);
    console.log(
      `[fuzz] telemetry-api: ${tally.invalid} invalid requests → ${byStatus} (200 = batches answered item by item, ` +
        `all ${tally.items} items invalid); ${tally.fiveXX} × 5xx; ${stored} stored (${invalidUuids.size} uuids checked); ` +
        `slowest ${Math.round(tally.maxMs)} ms; ${tally.valid} hostile valid events stored and read back exactly; ` +
        `seed ${SEED}; ${seconds} s`,
    );
    expect(stored).toBe(0);
    expect(tally.fiveXX).toBe(0);
  });
});
