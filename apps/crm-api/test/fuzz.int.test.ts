/**
 * Bad-input corpus for the CRM API, property-based (fast-check): thousands of bodies,
 * paths and queries that are invalid by construction, sent over real HTTP to the app
 * on its own port, against the real crm_db. Every answer must be a 4xx
 * application/problem+json with type/title/status (422: `errors` naming exactly the
 * broken fields), in bounded time, and nothing may be stored. A smaller property
 * sends valid but hostile users (SQL metacharacters, RTL, emoji, combining marks,
 * fields at their maximum length) and reads them back byte for byte.
 *
 * Size and reproduction: FUZZ_RUNS (default 2000) is the number of invalid requests
 * this file sends; FUZZ_SEED (default printed in the summary line) replays a run.
 *
 * Rows of other suites and engineers share the table: every invalid body carries
 * INVALID_MARK (in name and e-mail), the check at the end looks for that marker only,
 * and clean-up deletes only the ids this file created.
 */
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { createCrmDb, type CrmDb } from '@cdc/db/crm';
import { startServer, type RunningServer } from '@cdc/http';
import { LIMITS } from '@cdc/schemas';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/app.js';
import { MAX_BODY_BYTES } from '../src/config.js';
import { CRM_DATABASE_URL } from './support.js';

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

/** Lower-case hex: survives the e-mail's lower-casing. */
const INVALID_MARK = `fzx${randomBytes(5).toString('hex')}`;
const VALID_MARK = `fzv${randomBytes(5).toString('hex')}`;

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

/** An e-mail with a marker that breaks `^[^\s@"]{1,64}@[^\s@]{1,255}$` (after trim) or the 254 limit. */
const notAnEmail: fc.Arbitrary<string> = fc.oneof(
  hostile(0, 6).map((s) => `${INVALID_MARK}${s}`), // no '@' (HOSTILE holds none)
  hostile(0, 3).map((s) => `${INVALID_MARK}@${s}@fuzz.example`),
  fc.constantFrom(...WHITESPACE).map((ws) => `${INVALID_MARK}${ws}x@fuzz.example`),
  fc.constantFrom(...WHITESPACE).map((ws) => `${INVALID_MARK}@fuzz${ws}example`),
  fc.constant(`${INVALID_MARK}"x@fuzz.example`),
  fc.integer({ min: 65, max: 120 }).map((n) => `${INVALID_MARK}${'a'.repeat(n)}@fuzz.example`),
  fc.constant('@fuzz.example'),
  fc.constant(`${INVALID_MARK}@`),
  fc.integer({ min: 255, max: 400 }).map((n) => `${INVALID_MARK}@${'d'.repeat(n - INVALID_MARK.length - 1)}`),
  fc.tuple(fc.constantFrom(...UNSTORABLE), hostile(0, 2)).map(([bad, s]) => `${INVALID_MARK}x${bad}x${clip(s.replace(/\s/g, ''), 20)}@fuzz.example`),
);

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

const TEXT_MAX = {
  name: LIMITS.nameLength,
  gender: LIMITS.genderLength,
  country: LIMITS.countryLength,
  address: LIMITS.addressLength,
  phone: LIMITS.phoneLength,
} as const;
const FIELDS = ['name', 'email', 'age', 'gender', 'country', 'address', 'phone'] as const;
type Field = (typeof FIELDS)[number];
const REQUIRED: readonly Field[] = ['name', 'email'];
const OPTIONAL: readonly Field[] = ['age', 'gender', 'country', 'address', 'phone'];

const optionalTextInvalid = (max: number) => fc.oneof(nonString, overLong(max), unstorable(max));

/** Per field: values that break the contract or the storage rules for that field alone. */
const INVALID: Record<Field, fc.Arbitrary<Json>> = {
  name: fc.oneof(nonStringOrNull, whitespaceOnly, overLong(TEXT_MAX.name), unstorable(TEXT_MAX.name)),
  email: fc.oneof(nonStringOrNull, whitespaceOnly, notAnEmail),
  age: invalidInt(0, LIMITS.maxAge, true),
  gender: optionalTextInvalid(TEXT_MAX.gender),
  country: optionalTextInvalid(TEXT_MAX.country),
  address: optionalTextInvalid(TEXT_MAX.address),
  phone: optionalTextInvalid(TEXT_MAX.phone),
};

const UNKNOWN_KEYS = [
  '__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty', 'id', 'user_uuid', 'registered_at',
  'emial', 'Name', 'EMAIL', ' name', 'name ', 'name\u0000', '', 'ａｇｅ', 'e\u0301mail', '$where', "name'--", 'user', 'users',
];
const unknownKey = fc
  .oneof(fc.constantFrom(...UNKNOWN_KEYS), hostile(1, 3), fc.string())
  .filter((k) => !(FIELDS as readonly string[]).includes(k));

// ---------------------------------------------------------------- bodies invalid by construction

type Op =
  | { op: 'corrupt'; field: Field; value: Json; duplicate: boolean }
  | { op: 'drop'; field: Field }
  | { op: 'unknown'; key: string; value: Json; first: boolean };
type Noise = { op: 'shadow'; field: Field; value: Json } | { op: 'null'; field: Field } | { op: 'dropOptional'; field: Field };
type Wrap = 'none' | 'array' | 'scalar' | 'nest' | 'deep';

const corruptOp: fc.Arbitrary<Op> = fc
  .constantFrom(...FIELDS)
  .chain((field) => fc.record({ op: fc.constant('corrupt' as const), field: fc.constant(field), value: INVALID[field], duplicate: fc.boolean() }));
const dropOp: fc.Arbitrary<Op> = fc.record({ op: fc.constant('drop' as const), field: fc.constantFrom(...REQUIRED) });
const unknownOp: fc.Arbitrary<Op> = fc.record({ op: fc.constant('unknown' as const), key: unknownKey, value: anyJson, first: fc.boolean() });
const noiseOp: fc.Arbitrary<Noise> = fc.oneof(
  fc.record({ op: fc.constant('shadow' as const), field: fc.constantFrom(...FIELDS), value: fc.oneof(anyJson, hostile(0, 3)) }),
  fc.record({ op: fc.constant('null' as const), field: fc.constantFrom(...OPTIONAL) }),
  fc.record({ op: fc.constant('dropOptional' as const), field: fc.constantFrom(...OPTIONAL) }),
);
const wrap: fc.Arbitrary<Wrap> = fc.oneof(
  { weight: 12, arbitrary: fc.constant('none' as const) },
  { weight: 1, arbitrary: fc.constantFrom('array' as const, 'scalar' as const, 'nest' as const, 'deep' as const) },
);

interface Built {
  body: Json;
  /** The error paths the answer must list, exactly. */
  paths: string[];
  ops: string;
}

/**
 * Applies neutral noise (valid duplicates, nulls, absent optionals), then the
 * invalidating operations, tracking which field ends up broken: JSON's last
 * duplicate wins, so that is the value the state follows.
 */
function build(base: Partial<Record<Field, Json>>, noise: Noise[], ops: Op[], how: Wrap, kind: 'create' | 'patch'): Built {
  let members: [string, Json][] = FIELDS.filter((f) => base[f] !== undefined).map((f) => [f, base[f]!]);
  const state = new Map<string, 'valid' | 'invalid'>(members.map(([k]) => [k, 'valid']));
  const without = (key: string) => members.filter(([k]) => k !== key);
  for (const n of noise) {
    if (n.op === 'shadow' && state.get(n.field) === 'valid') members.unshift([n.field, n.value]);
    if (n.op === 'null') {
      members = without(n.field);
      members.push([n.field, null]);
      state.set(n.field, 'valid');
    }
    if (n.op === 'dropOptional') {
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
  if (kind === 'create') for (const f of REQUIRED) if (!state.has(f)) paths.add(f);
  if (unknown) paths.add('');
  if (kind === 'patch' && state.size === 0) paths.add(''); // "at least one field"
  const obj = new Obj(members);
  const ops$ = JSON.stringify([...noise, ...ops].map((o) => `${o.op}:${'field' in o ? o.field : JSON.stringify(o.key)}`));
  switch (how) {
    case 'none':
      return { body: obj, paths: [...paths].sort(), ops: ops$ };
    case 'array':
      return { body: [obj], paths: [''], ops: `${ops$} in an array` };
    case 'scalar':
      return { body: toJson(obj), paths: [''], ops: `${ops$} as a JSON string` };
    case 'nest':
      return { body: new Obj([['user', obj]]), paths: kind === 'create' ? ['', 'email', 'name'] : [''], ops: `${ops$} under "user"` };
    case 'deep':
      return { body: new Raw(`${'['.repeat(2000)}${toJson(obj)}${']'.repeat(2000)}`), paths: [''], ops: `${ops$} 2000 arrays deep` };
  }
}

let emailSeq = 0;
const markedEmail = (mark: string) => fc.constant(null).map(() => `${mark}-${++emailSeq}@fuzz.example`);

const validOptional = (max: number) => fc.option(validText(max), { nil: null });
/** A valid user (when no operation breaks it), marked as this file's invalid corpus. */
const markedUser = fc.record(
  {
    name: hostile(0, 4).map((s) => clip(`Fuzz ${INVALID_MARK} ${s}`, TEXT_MAX.name)),
    email: markedEmail(INVALID_MARK),
    age: fc.option(fc.integer({ min: 0, max: LIMITS.maxAge }), { nil: null }),
    gender: validOptional(TEXT_MAX.gender),
    country: validOptional(TEXT_MAX.country),
    address: validOptional(TEXT_MAX.address),
    phone: validOptional(TEXT_MAX.phone),
  },
  { requiredKeys: ['name', 'email'] },
) as fc.Arbitrary<Partial<Record<Field, Json>>>;

const invalidCreate: fc.Arbitrary<Built> = fc
  .tuple(
    markedUser,
    fc.array(noiseOp, { maxLength: 3 }),
    fc.array(fc.oneof({ weight: 5, arbitrary: corruptOp }, { weight: 1, arbitrary: dropOp }, { weight: 2, arbitrary: unknownOp }), { minLength: 1, maxLength: 4 }),
    wrap,
  )
  .map(([base, noise, ops, how]) => build(base, noise, ops, how, 'create'));

/** A valid patch is any non-empty subset of the fields; these break it. */
const invalidPatch: fc.Arbitrary<Built> = fc
  .tuple(
    markedUser.chain((u) => fc.subarray(FIELDS.filter((f) => u[f] !== undefined)).map((keep) => Object.fromEntries(keep.map((f) => [f, u[f]])))),
    fc.array(noiseOp, { maxLength: 2 }),
    fc.oneof(
      { weight: 8, arbitrary: fc.array(fc.oneof({ weight: 3, arbitrary: corruptOp }, { weight: 1, arbitrary: unknownOp }), { minLength: 1, maxLength: 4 }) },
      { weight: 1, arbitrary: fc.constant([] as Op[]) }, // valid only when non-empty: kept when the subset is empty
    ),
    wrap,
  )
  .filter(([base, noise, ops]) => ops.length > 0 || (Object.keys(base).length === 0 && noise.every((n) => n.op !== 'null')))
  .map(([base, noise, ops, how]) => build(base as Partial<Record<Field, Json>>, noise, ops, how, 'patch'));

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

function rawCases(valid: fc.Arbitrary<Json>, limit: number): fc.Arbitrary<RawCase> {
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
    fc.tuple(text, fc.integer({ min: 1, max: 200_000 })).map(([t, over]): RawCase => ({
      what: `padded ${over} bytes over the limit`,
      body: utf8(t + ' '.repeat(limit + over - Buffer.byteLength(t))),
      contentType: 'application/json',
      status: 413,
    })),
    fc.tuple(text, fc.integer({ min: 1, max: 100_000 })).map(([t, over]): RawCase => ({
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

// ---------------------------------------------------------------- paths and queries

const isUserId = (s: string) => /^\d{1,10}$/.test(s) && Number(s) >= 1 && Number(s) <= LIMITS.int32Max;

/** Anything the {id} parameter must refuse: not 1..2^31-1 in plain decimal digits. */
const badId: fc.Arbitrary<string> = fc
  .oneof(
    fc.constantFrom('0', '-1', '00', '2147483648', '99999999999', '00000000001', '1.5', '1e3', '0x10', ' 7', '+7', '7 ', '١٢٣', '①', '٣', 'Infinity', 'NaN', 'null', 'true', '[1]', '{"id":1}', '1,2', '1;2', '1 OR 1=1', "1' OR '1'='1", '1--', '1/**/'),
    fc.bigInt({ min: 2n ** 31n, max: 10n ** 30n }).map(String),
    fc.integer({ max: 0 }).map(String),
    hostile(1, 6),
    fc.string({ minLength: 1 }),
  )
  .filter((s) => s !== '.' && s !== '..' && !isUserId(s) && wellFormed(s));

/** Raw path segments a client might send, each decoding to something that is not an id. */
const RAW_SEGMENTS = ['%', '%%', '%ZZ', '%FF', '%C0%80', '%00', '%2e%2e%2f', '1%00', '1%20', '%E2%80%AE1', 'x%2Fy', '%252F', '%u0031'];

const isLimit = (s: string) => /^\d{1,10}$/.test(s) && Number(s) >= 1 && Number(s) <= 500;
const badLimit = fc
  .oneof(fc.constantFrom('0', '501', '-1', '2.5', '1e2', '0x10', ' 5', '', 'abc', '99999999999'), hostile(1, 4), fc.string())
  .filter((s) => !isLimit(s) && wellFormed(s));
/** Never a cursor the API issued: every one holds a character outside base64url, or is empty. */
const badCursor = fc
  .oneof(fc.constantFrom('', 'MTA=', 'not-a-cursor!', '%%%', '../', 'MQ==', '+/+/'), hostile(1, 4), fc.string({ minLength: 1 }))
  .filter((s) => (s === '' || /[^A-Za-z0-9_-]/.test(s)) && wellFormed(s));

// ---------------------------------------------------------------- the app, the wire, the tally

let db: CrmDb;
let server: RunningServer;
const serverErrors: string[] = [];

/** Ids this file created (hostile valid users, PATCH targets): the only rows it deletes. */
const createdIds: number[] = [];
type Target = { id: number; row: Record<string, unknown> };
const targets: Target[] = [];

const tally = { invalid: 0, byStatus: new Map<number, number>(), fiveXX: 0, maxMs: 0, valid: 0, started: 0 };

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

/** Counts the answer to an invalid request and asserts it is a well-formed problem with an allowed status. */
function problemOf(a: Answer, allowed: readonly number[], what: string): ProblemBody {
  tally.invalid++;
  tally.byStatus.set(a.status, (tally.byStatus.get(a.status) ?? 0) + 1);
  tally.maxMs = Math.max(tally.maxMs, a.ms);
  const context = `${what}\n→ ${a.status} ${a.text.slice(0, 600)}${a.status >= 500 ? `\nserver log: ${serverErrors.at(-1)?.slice(0, 800)}` : ''}`;
  if (a.status >= 500) tally.fiveXX++;
  expect(allowed, context).toContain(a.status);
  expect(a.headers.get('content-type'), context).toBe('application/problem+json');
  const p = JSON.parse(a.text) as ProblemBody;
  expect(p.type, context).toMatch(/^https:\/\/cdc-pipeline\.local\/problems\/[a-z-]+$/);
  expect(typeof p.title === 'string' && p.title.length > 0, context).toBe(true);
  expect(p.status, context).toBe(a.status);
  expect(p.request_id, context).toBe(a.headers.get('x-request-id'));
  if (a.status === 422) {
    expect(Array.isArray(p.errors) && p.errors.length > 0, context).toBe(true);
    for (const e of p.errors!) {
      expect(typeof e.path, context).toBe('string');
      expect(typeof e.message === 'string' && e.message.length > 0, context).toBe(true);
    }
  }
  expect(a.ms, context).toBeLessThan(REQUEST_TIMEOUT_MS);
  return p;
}

const errorPaths = (p: ProblemBody) => [...new Set((p.errors ?? []).map((e) => e.path))].sort();

const fcOptions = (k: number, numRuns: number) => ({ seed: SEED + k, numRuns });

const USER_COLUMNS = 'id, name, email, age, gender, country, address, phone';
async function rowOf(id: number): Promise<Record<string, unknown> | undefined> {
  const { rows } = await db.pool.query(`SELECT ${USER_COLUMNS}, user_uuid::text, registered_at FROM users WHERE id = $1`, [id]);
  return rows[0];
}

beforeAll(async () => {
  const log = pino({ level: 'warn' }, { write: (s: string) => void serverErrors.push(s) });
  db = createCrmDb(CRM_DATABASE_URL);
  const { app } = createApp({ db, log, config: { maxBodyBytes: MAX_BODY_BYTES } });
  server = await startServer(app, { host: '127.0.0.1', port: 0, log, graceMs: 2000 });
  tally.started = performance.now();
  // Users that invalid PATCHes aim at; they must come out unchanged.
  for (let i = 0; i < 4; i++) {
    const res = await send('POST', '/users', utf8(JSON.stringify({ name: `Fuzz target ${i}`, email: `${VALID_MARK}-target${i}@fuzz.example`, age: 40 + i, country: 'Ukraine' })));
    expect(res.status, res.text).toBe(201);
    const { id } = JSON.parse(res.text) as { id: number };
    createdIds.push(id);
    targets.push({ id, row: (await rowOf(id))! });
  }
});

afterAll(async () => {
  await server?.close();
  if (createdIds.length > 0) await db?.pool.query('DELETE FROM users WHERE id = ANY($1::int[])', [createdIds]);
  // Only after a red run: rows the invalid corpus should never have created (this run's marker).
  await db?.pool.query('DELETE FROM users WHERE position($1 in name) > 0 OR position($1 in email) > 0', [INVALID_MARK]);
  await db?.close();
});

// ---------------------------------------------------------------- the properties

describe(`crm-api fuzz (seed ${SEED}, ${FUZZ_RUNS} invalid requests)`, { timeout: TEST_TIMEOUT_MS }, () => {
  it('POST /users with a corrupted body → 422 naming exactly the broken fields (413 when it got too large)', async () => {
    await fc.assert(
      fc.asyncProperty(invalidCreate, async ({ body, paths, ops }) => {
        const text = toJson(body);
        const bytes = utf8(text);
        const expected = bytes.length > MAX_BODY_BYTES ? 413 : 422;
        const p = problemOf(await send('POST', '/users', bytes), [expected], `POST /users ${ops}: ${text.slice(0, 300)}`);
        if (expected === 422) expect(errorPaths(p), `${ops}: ${text.slice(0, 300)}`).toEqual(paths);
      }),
      fcOptions(1, runs(0.3)),
    );
  });

  it('POST /users with bytes that are not JSON, not UTF-8, of the wrong type or too large → 400 / 415 / 413', async () => {
    await fc.assert(
      fc.asyncProperty(rawCases(markedUser.map((u) => new Obj(FIELDS.filter((f) => u[f] !== undefined).map((f) => [f, u[f]!]))), MAX_BODY_BYTES), async (c) => {
        if (c.status === 400 && typeof c.body !== 'function') expect(statusOfBytes(c.body), c.what).toBe(400); // the generator's own promise
        const expected = c.status ?? statusOfBytes(c.body as Uint8Array);
        problemOf(await send('POST', '/users', c.body, c.contentType), [expected], `POST /users ${c.what}`);
      }),
      fcOptions(2, runs(0.2)),
    );
  });

  it('PATCH /users/{id} with a corrupted body → 422 naming exactly the broken fields; the user is unchanged', async () => {
    await fc.assert(
      fc.asyncProperty(invalidPatch, fc.nat(targets.length - 1), async ({ body, paths, ops }, t) => {
        const text = toJson(body);
        const bytes = utf8(text);
        const expected = bytes.length > MAX_BODY_BYTES ? 413 : 422;
        const p = problemOf(await send('PATCH', `/users/${targets[t]!.id}`, bytes), [expected], `PATCH ${ops}: ${text.slice(0, 300)}`);
        if (expected === 422) expect(errorPaths(p), `${ops}: ${text.slice(0, 300)}`).toEqual(paths);
      }),
      fcOptions(3, runs(0.2)),
    );
    for (const t of targets) expect(await rowOf(t.id)).toEqual(t.row);
  });

  it('PATCH /users/{id} with raw bad bytes → 400 / 415 / 413; the user is unchanged', async () => {
    const patch = fc.constant(null).map(() => new Obj([['name', `Fuzz ${INVALID_MARK} patched`], ['email', `${INVALID_MARK}-patch-${++emailSeq}@fuzz.example`]]));
    await fc.assert(
      fc.asyncProperty(rawCases(patch, MAX_BODY_BYTES), fc.nat(targets.length - 1), async (c, t) => {
        const expected = c.status ?? statusOfBytes(c.body as Uint8Array);
        problemOf(await send('PATCH', `/users/${targets[t]!.id}`, c.body, c.contentType), [expected], `PATCH ${c.what}`);
      }),
      fcOptions(4, runs(0.1)),
    );
    for (const t of targets) expect(await rowOf(t.id)).toEqual(t.row);
  });

  it('garbage in the path or the query → 422 naming the parameter (404 for paths no route has)', async () => {
    const request = fc.oneof(
      fc.tuple(fc.constantFrom('GET', 'PATCH', 'DELETE'), badId).map(([method, id]) => ({
        method,
        path: `/users/${encodeURIComponent(id)}`,
        statuses: [422],
        paths: ['param.id'],
      })),
      fc.tuple(fc.constantFrom('GET', 'PATCH', 'DELETE'), fc.constantFrom(...RAW_SEGMENTS)).map(([method, seg]) => ({
        method,
        path: `/users/${seg}`,
        statuses: [422],
        paths: ['param.id'],
      })),
      fc.tuple(fc.constantFrom('GET', 'PATCH', 'DELETE'), badId, hostile(1, 3)).map(([method, id, rest]) => ({
        method,
        path: `/users/${encodeURIComponent(id)}/${encodeURIComponent(rest)}`,
        statuses: [404],
        paths: [],
      })),
      fc
        .record({ limit: fc.option(badLimit, { nil: undefined }), cursor: fc.option(badCursor, { nil: undefined }) })
        .filter((q) => q.limit !== undefined || q.cursor !== undefined)
        .map((q) => {
          const search = new URLSearchParams();
          if (q.limit !== undefined) search.append('limit', q.limit);
          if (q.cursor !== undefined) search.append('cursor', q.cursor);
          return {
            method: 'GET',
            path: `/users?${search}`,
            statuses: [422],
            paths: [...(q.cursor !== undefined ? ['query.cursor'] : []), ...(q.limit !== undefined ? ['query.limit'] : [])],
          };
        }),
      fc.constantFrom('PUT', 'POST').map((method) => ({ method, path: `/users/${targets[0]!.id}`, statuses: [404], paths: [] })),
    );
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        // PATCH carries a valid body: the path alone must be what is refused.
        const body = r.method === 'GET' || r.method === 'DELETE' ? undefined : utf8(JSON.stringify({ name: `Fuzz ${INVALID_MARK}` }));
        const p = problemOf(await send(r.method, r.path, body), r.statuses, `${r.method} ${r.path}`);
        if (p.status === 422) expect(errorPaths(p), `${r.method} ${r.path}`).toEqual(r.paths);
      }),
      fcOptions(5, runs(0.2)),
    );
    for (const t of targets) expect(await rowOf(t.id)).toEqual(t.row);
  });

  it('valid but hostile users (SQL metacharacters, RTL, emoji, combining marks, maximum lengths) are stored and read back exactly', async () => {
    const emailPiece = hostile(0, 4).map((s) => s.replace(/[\s@"]/gu, ''));
    const user = fc.record(
      {
        name: validText(TEXT_MAX.name),
        // Local part ≤ 64 code points (even after lower-casing: İ → i̇), whole address ≤ 254, no white space, '@' or '"'.
        email: fc.tuple(emailPiece, emailPiece, fc.constantFrom(...WHITESPACE)).map(([a, b, ws]) => {
          const local = `${VALID_MARK}-${++emailSeq}${clip(a, 20)}`;
          return `${ws}${local}@${clip(b, 80) || 'x'}.example${ws}`;
        }),
        age: fc.option(fc.constantFrom(0, 1, 149, LIMITS.maxAge), { nil: null }),
        gender: validOptional(TEXT_MAX.gender),
        country: validOptional(TEXT_MAX.country),
        address: validOptional(TEXT_MAX.address),
        phone: validOptional(TEXT_MAX.phone),
      },
      { requiredKeys: ['name', 'email'] },
    );
    const patchOf = fc.record({ name: validText(TEXT_MAX.name), address: validOptional(TEXT_MAX.address) }, { requiredKeys: [] });
    type In = Partial<Record<Field, string | number | null>>;
    const expectedOf = (u: In) =>
      Object.fromEntries(
        FIELDS.map((f) => {
          const v = u[f];
          if (v === undefined || v === null) return [f, null];
          if (typeof v === 'number') return [f, v];
          return [f, f === 'email' ? v.trim().toLowerCase() : v.trim()];
        }),
      );
    await fc.assert(
      fc.asyncProperty(user, patchOf, async (u, patch) => {
        tally.valid++;
        const created = await send('POST', '/users', utf8(JSON.stringify(u)));
        expect(created.status, `${JSON.stringify(u)} → ${created.text}`).toBe(201);
        const body = JSON.parse(created.text) as Record<string, unknown>;
        createdIds.push(body.id as number);
        const expected = expectedOf(u as In);
        expect(body).toMatchObject(expected);
        expect(await rowOf(body.id as number)).toMatchObject({ ...expected, id: body.id });

        if (Object.keys(patch).length === 0) return;
        const patched = await send('PATCH', `/users/${body.id}`, utf8(JSON.stringify(patch)));
        expect(patched.status, `${JSON.stringify(patch)} → ${patched.text}`).toBe(200);
        const after = expectedOf({ ...(u as In), ...(patch as In) });
        expect(JSON.parse(patched.text)).toMatchObject(after);
        const read = await send('GET', `/users/${body.id}`);
        expect(JSON.parse(read.text)).toMatchObject(after);
        expect(await rowOf(body.id as number)).toMatchObject(after);
      }),
      fcOptions(6, Math.max(20, Math.round(FUZZ_RUNS / 25))),
    );
  });

  it('nothing of the invalid corpus was stored; prints the tally', async () => {
    const { rows } = await db.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM users
        WHERE position($1 in name) > 0 OR position($1 in email) > 0 OR position($1 in coalesce(gender, '')) > 0
           OR position($1 in coalesce(country, '')) > 0 OR position($1 in coalesce(address, '')) > 0 OR position($1 in coalesce(phone, '')) > 0`,
      [INVALID_MARK],
    );
    const stored = rows[0]!.n;
    for (const t of targets) expect(await rowOf(t.id)).toEqual(t.row);
    const byStatus = [...tally.byStatus].sort((a, b) => b[1] - a[1]).map(([s, n]) => `${s}: ${n}`).join(', ');
    const seconds = ((performance.now() - tally.started) / 1000).toFixed(1);
    console.log(
      `[fuzz] crm-api: ${tally.invalid} invalid requests → ${byStatus}; ${tally.fiveXX} × 5xx; ${stored} stored; ` +
        `slowest ${Math.round(tally.maxMs)} ms; ${tally.valid} hostile valid users stored and read back exactly; ` +
        `seed ${SEED}; ${seconds} s`,
    );
    expect(stored).toBe(0);
    expect(tally.fiveXX).toBe(0);
  });
});
