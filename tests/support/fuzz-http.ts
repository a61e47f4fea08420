/**
 * What the property-based fuzz files of the HTTP APIs (apps/crm-api/test/fuzz.int.test.ts,
 * apps/telemetry-api/test/fuzz.int.test.ts) have in common: run size and seed, JSON
 * written exactly as intended, hostile text, values invalid whatever the field, the
 * corruption of a body member by member, raw bytes that are not acceptable JSON, and
 * the wire: sending, the problem+json checks and the tally the summary line prints.
 * Each file keeps what belongs to its API: routes, fields and their rules, which rows
 * count as stored.
 *
 * Every arbitrary here is built exactly as the files built it before they shared it:
 * with the same seed they generate the same requests (the README quotes the counts).
 */
import fc from 'fast-check';
import { expect } from 'vitest';
import { seedFrom } from './seed.js';

// ---------------------------------------------------------------- run size and seed

function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n)) throw new Error(`${name} must be an integer, got ${raw}`);
  return n;
}

/** Invalid requests each fuzz file sends (split over its properties): FUZZ_RUNS, at least 50. */
export const FUZZ_RUNS = Math.max(50, envInt('FUZZ_RUNS', 2000));
/** FUZZ_SEED replays a run (or `random`); the summary line prints the one used. */
export const SEED = seedFrom('FUZZ_SEED', 20_261_125);
/** No single answer may take longer: a hang fails the property with a TimeoutError. */
export const REQUEST_TIMEOUT_MS = 10_000;
export const TEST_TIMEOUT_MS = Math.max(120_000, FUZZ_RUNS * 100);
/** A property's share of FUZZ_RUNS (at least 10 runs). */
export const runs = (share: number) => Math.max(10, Math.round(FUZZ_RUNS * share));
/** Property k of a file gets seed SEED + k: one property's size does not shift another's values. */
export const fcOptions = (k: number, numRuns: number) => ({ seed: SEED + k, numRuns });

// ---------------------------------------------------------------- JSON as written

/** Text sent verbatim: numbers JSON.stringify cannot write (1e999, 30 digits), deep nesting. */
export class Raw {
  constructor(readonly text: string) {}
}
/** A JSON object as an ordered member list: duplicate keys and "__proto__" stay as written. */
export class Obj {
  constructor(readonly members: ReadonlyArray<readonly [string, Json]>) {}
}
export type Json = null | boolean | number | string | Raw | Obj | Json[];

export function toJson(v: Json): string {
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

export const utf8 = (s: string) => new Uint8Array(Buffer.from(s, 'utf8'));

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
export const WHITESPACE = [' ', '\t', '\n', '\r', '\v', '\f', '\u00A0', '\u1680', '\u2003', '\u200A', '\u2028', '\u2029', '\u202F', '\u205F', '\u3000', '\uFEFF'];
/** Pieces PostgreSQL text cannot hold as sent: NUL, unpaired surrogates (each kept unpaired by 'x' around it). */
export const UNSTORABLE = ['\u0000', '\uD800', '\uDBFF', '\uDC00', '\uDFFF'];

/** minChunks..maxChunks hostile pieces, joined. */
export const hostile = (minChunks: number, maxChunks: number) =>
  fc.array(fc.constantFrom(...HOSTILE), { minLength: minChunks, maxLength: maxChunks }).map((a) => a.join(''));

/** No unpaired surrogate: such a string cannot go into a URL (encodeURIComponent throws). */
export const wellFormed = (s: string) => !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);

/** Lengths are code points, as both zod's max() and PostgreSQL's varchar(n) count them. */
const codePoints = (s: string) => [...s].length;

/** The first n code points. */
export function clip(s: string, n: number): string {
  const cps = [...s];
  return cps.length <= n ? s : cps.slice(0, Math.max(0, n)).join('');
}

/** n code points: 'x', then the hostile piece and 'y' repeated, cut to length. */
function stretch(piece: string, n: number): string {
  return clip(`x${`${piece}y`.repeat(Math.ceil(n / (codePoints(piece) + 1)))}`, n);
}

/** Hostile text whose trimmed form is 1..max code points; sometimes exactly max; sometimes padded with white space. */
export function validText(max: number): fc.Arbitrary<string> {
  const core = fc.oneof(
    { weight: 3, arbitrary: hostile(1, 10).map((s) => clip(s, max)) },
    { weight: 1, arbitrary: hostile(1, 6).map((h) => stretch(h, max)) },
  );
  const pad = fc.array(fc.constantFrom(...WHITESPACE), { maxLength: 3 }).map((a) => a.join(''));
  return fc.tuple(pad, core, pad).map(([a, s, b]) => `${a}${s}${b}`).filter((s) => s.trim().length > 0);
}

/** Longer than max code points after trimming (it ends in 'x' … 'z'). Occasionally huge (then maybe 413). */
export function overLong(max: number): fc.Arbitrary<string> {
  const length = fc.oneof({ weight: 6, arbitrary: fc.integer({ min: max + 1, max: max + 80 }) }, { weight: 1, arbitrary: fc.integer({ min: max + 1, max: 70_000 }) });
  return fc.tuple(hostile(1, 6), length).map(([h, n]) => `${stretch(h, n - 1)}z`);
}

/** Within max code points, but holding NUL or an unpaired surrogate. */
export function unstorable(max: number): fc.Arbitrary<string> {
  const room = Math.floor((max - 3) / 2);
  return fc
    .tuple(hostile(0, 4), fc.constantFrom(...UNSTORABLE), hostile(0, 4))
    .map(([a, bad, b]) => `${clip(a, room)}x${bad}x${clip(b, room)}`);
}

// ---------------------------------------------------------------- invalid values

export const finiteDouble = fc.double({ noNaN: true, noDefaultInfinity: true });
/** Out of int32 (and of every range the APIs have) or not finite once parsed. */
const HUGE_NUMBERS = [
  '1e999', '-1e999', '1E400', '-1E400', '123456789012345678901234567890', '-123456789012345678901234567890',
  '2147483648', '-2147483649', '4294967296', '9007199254740993', '1.7976931348623157e309',
].map((t) => new Raw(t));

export const anyJson: fc.Arbitrary<Json> = fc.jsonValue({ maxDepth: 3 }).map(fromPlain);
/** Nesting 50 to 15,000 deep: the parser must neither overflow its stack nor take long. */
export const deepNest: fc.Arbitrary<Json> = fc
  .tuple(fc.integer({ min: 50, max: 15_000 }), fc.boolean())
  .map(([d, arrays]) => new Raw(arrays ? '['.repeat(d) + ']'.repeat(d) : '{"a":'.repeat(d) + '0' + '}'.repeat(d)));
/** Small objects, prototype-polluting keys included. */
export const jsonObject: fc.Arbitrary<Json> = fc
  .array(fc.tuple(fc.oneof(fc.string(), fc.constantFrom('__proto__', 'constructor', 'prototype')), anyJson), { maxLength: 4 })
  .map((m) => new Obj(m));

/** Anything but a string or null. */
export const nonString: fc.Arbitrary<Json> = fc.oneof(
  fc.boolean(),
  fc.integer(),
  finiteDouble,
  fc.constantFrom(...HUGE_NUMBERS),
  fc.array(anyJson, { maxLength: 4 }),
  jsonObject,
  deepNest,
);
/** For a text field: anything but a string (null now and then). */
export const nonStringOrNull = fc.oneof({ weight: 6, arbitrary: nonString }, { weight: 1, arbitrary: fc.constant(null) });
/** Up to six white-space characters: nothing left once trimmed. */
export const whitespaceOnly = fc.array(fc.constantFrom(...WHITESPACE), { maxLength: 6 }).map((a) => a.join(''));

/** Anything but an integer in [min, max] (null counts as valid when nullable). */
export function invalidInt(min: number, max: number, nullable: boolean): fc.Arbitrary<Json> {
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

// ---------------------------------------------------------------- bodies corrupted member by member

/** An operation that makes a valid body invalid; F: the API's field names. */
export type Op<F extends string> =
  | { op: 'corrupt'; field: F; value: Json; duplicate: boolean }
  | { op: 'drop'; field: F }
  | { op: 'unknown'; key: string; value: Json; first: boolean };

/** How the (corrupted) body is wrapped: 'none' mostly; otherwise the shape itself is wrong. */
export type Wrap = 'none' | 'array' | 'scalar' | 'nest' | 'deep';
export const wrap: fc.Arbitrary<Wrap> = fc.oneof(
  { weight: 12, arbitrary: fc.constant('none' as const) },
  { weight: 1, arbitrary: fc.constantFrom('array' as const, 'scalar' as const, 'nest' as const, 'deep' as const) },
);

/**
 * Applies the invalidating operations to the ordered members, marking in `state` which
 * field ends up broken or absent: JSON's last duplicate wins, so that is the value the
 * state follows. Returns the new members and whether an unknown key went in.
 */
export function applyOps<F extends string>(
  members: [string, Json][],
  state: Map<string, 'valid' | 'invalid'>,
  ops: readonly Op<F>[],
): { members: [string, Json][]; unknown: boolean } {
  const without = (key: string) => members.filter(([k]) => k !== key);
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
  return { members, unknown };
}

/** The operations (noise included) as a failing case's description. */
export const describeOps = (ops: ReadonlyArray<{ op: string; field: string } | { op: string; key: string }>) =>
  JSON.stringify(ops.map((o) => `${o.op}:${'field' in o ? o.field : JSON.stringify(o.key)}`));

/**
 * The body wrapped as 'array', 'scalar' or 'deep' (each API builds 'none' and 'nest'
 * itself): not an object at all, so it is refused as a whole, at path ''.
 */
export function wrapped(obj: Obj, how: 'array' | 'scalar' | 'deep', ops: string): { body: Json; paths: string[]; ops: string } {
  switch (how) {
    case 'array':
      return { body: [obj], paths: [''], ops: `${ops} in an array` };
    case 'scalar':
      return { body: toJson(obj), paths: [''], ops: `${ops} as a JSON string` };
    case 'deep':
      return { body: new Raw(`${'['.repeat(2000)}${toJson(obj)}${']'.repeat(2000)}`), paths: [''], ops: `${ops} 2000 arrays deep` };
  }
}

// ---------------------------------------------------------------- raw bodies: not JSON, not UTF-8, wrong type, too large

/** A request body: bytes, or a stream (sent chunked, without Content-Length). */
export type Body = Uint8Array | (() => ReadableStream<Uint8Array>);

export interface RawCase {
  what: string;
  body: Body;
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

/**
 * Requests made from a valid body (`valid`: an object whose first member is a string
 * starting with "Fuzz") that the route must refuse before validating it: truncated,
 * syntax broken, not UTF-8, the wrong content type, over `limit` bytes (padded by up
 * to maxPaddedOver, or streamed chunked by up to maxChunkedOver), or random bytes.
 */
export function rawCases(valid: fc.Arbitrary<Json>, limit: number, maxPaddedOver: number, maxChunkedOver = maxPaddedOver): fc.Arbitrary<RawCase> {
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
    fc.tuple(text, fc.integer({ min: 1, max: maxPaddedOver })).map(([t, over]): RawCase => ({
      what: `padded ${over} bytes over the limit`,
      body: utf8(t + ' '.repeat(limit + over - Buffer.byteLength(t))),
      contentType: 'application/json',
      status: 413,
    })),
    fc.tuple(text, fc.integer({ min: 1, max: maxChunkedOver })).map(([t, over]): RawCase => ({
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
export function statusOfBytes(bytes: Uint8Array): number {
  try {
    JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
    return 422;
  } catch {
    return 400;
  }
}

// ---------------------------------------------------------------- the wire, the checks, the tally

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  ms: number;
}

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail?: string;
  request_id?: string;
  errors?: { path: string; message: string; code?: string }[];
}

/** Every issue of a 422 (or of a batch item) has a string path and a non-empty message. */
export function expectIssues(errors: ProblemBody['errors'], context: string): void {
  expect(Array.isArray(errors) && errors.length > 0, context).toBe(true);
  for (const e of errors!) {
    expect(typeof e.path, context).toBe('string');
    expect(typeof e.message === 'string' && e.message.length > 0, context).toBe(true);
  }
}

/** The distinct error paths, sorted: what a test compares with the fields it broke. */
export const pathsOf = (errors: ProblemBody['errors']) => [...new Set((errors ?? []).map((e) => e.path))].sort();

export interface Tally {
  invalid: number;
  byStatus: Map<number, number>;
  fiveXX: number;
  maxMs: number;
  /** Valid hostile records stored and read back (the file counts them). */
  valid: number;
  /** performance.now() when the server was up (the file sets it). */
  started: number;
}

export interface FuzzHttp {
  /** The in-process server's log (warn and above): the last line is shown beside a 5xx. */
  serverErrors: string[];
  tally: Tally;
  send(method: string, path: string, body?: Body, contentType?: string | null): Promise<Answer>;
  /** Counts the answer to an invalid request; returns the context for its assertions. */
  count(a: Answer, what: string): string;
  /** Counts the answer to an invalid request and asserts it is a well-formed problem with an allowed status. */
  problemOf(a: Answer, allowed: readonly number[], what: string): ProblemBody;
  /** The summary line (`[fuzz] api: N invalid requests → status: n, …`); the notes go after the counts they explain. */
  summary(s: { api: string; statusNote?: string; stored: number; storedNote?: string; validNoun: string }): string;
}

/**
 * The client side of one fuzz file, aimed at its in-process server (url read per
 * request: set in beforeAll), every request carrying `auth` (an API key's header).
 */
export function fuzzHttp(baseUrl: () => string, auth: () => Record<string, string>): FuzzHttp {
  const serverErrors: string[] = [];
  const tally: Tally = { invalid: 0, byStatus: new Map<number, number>(), fiveXX: 0, maxMs: 0, valid: 0, started: 0 };

  async function send(method: string, path: string, body?: Body, contentType: string | null = 'application/json'): Promise<Answer> {
    const headers: Record<string, string> = { ...auth() };
    if (contentType !== null && body !== undefined) headers['content-type'] = contentType;
    const started = performance.now();
    const res = await fetch(baseUrl() + path, {
      method,
      headers,
      body: typeof body === 'function' ? body() : body,
      duplex: 'half',
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    } as RequestInit);
    const text = await res.text();
    return { status: res.status, headers: res.headers, text, ms: performance.now() - started };
  }

  function count(a: Answer, what: string): string {
    tally.invalid++;
    tally.byStatus.set(a.status, (tally.byStatus.get(a.status) ?? 0) + 1);
    tally.maxMs = Math.max(tally.maxMs, a.ms);
    if (a.status >= 500) tally.fiveXX++;
    return `${what}\n→ ${a.status} ${a.text.slice(0, 600)}${a.status >= 500 ? `\nserver log: ${serverErrors.at(-1)?.slice(0, 800)}` : ''}`;
  }

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

  function summary(s: { api: string; statusNote?: string; stored: number; storedNote?: string; validNoun: string }): string {
    const byStatus = [...tally.byStatus].sort((a, b) => b[1] - a[1]).map(([st, n]) => `${st}: ${n}`).join(', ');
    const seconds = ((performance.now() - tally.started) / 1000).toFixed(1);
    return (
      `[fuzz] ${s.api}: ${tally.invalid} invalid requests → ${byStatus}${s.statusNote ?? ''}; ${tally.fiveXX} × 5xx; ` +
      `${s.stored} stored${s.storedNote ?? ''}; slowest ${Math.round(tally.maxMs)} ms; ` +
      `${tally.valid} hostile valid ${s.validNoun} stored and read back exactly; seed ${SEED}; ${seconds} s`
    );
  }

  return { serverErrors, tally, send, count, problemOf, summary };
}
