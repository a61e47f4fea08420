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
 *
 * What both APIs' fuzz files use (generators, raw bodies, the wire, the tally) is in
 * tests/support/fuzz-http.ts; this file holds the events' fields, the routes and rows.
 */
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { createTelemetryDb, type TelemetryDb } from '@cdc/db/telemetry';
import { startServer, type RunningServer } from '@cdc/http';
import { LIMITS } from '@cdc/schemas';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  anyJson,
  applyOps,
  clip,
  deepNest,
  describeOps,
  expectIssues,
  fcOptions,
  finiteDouble,
  FUZZ_RUNS,
  fuzzHttp,
  hostile,
  invalidInt,
  jsonObject,
  type Json,
  nonStringOrNull,
  Obj,
  type Op as AnyOp,
  overLong,
  pathsOf,
  type ProblemBody,
  Raw,
  rawCases,
  REQUEST_TIMEOUT_MS,
  runs,
  SEED,
  statusOfBytes,
  TEST_TIMEOUT_MS,
  toJson,
  unstorable,
  utf8,
  validText,
  wellFormed,
  WHITESPACE,
  whitespaceOnly,
  wrap,
  type Wrap,
  wrapped,
} from '../../../tests/support/fuzz-http.js';
import { createApp } from '../src/app.js';
import { INSTANT_RANGE_MESSAGE } from '../src/instant.js';
import { BATCH_MAX_BODY_BYTES, SINGLE_MAX_BODY_BYTES } from '../src/limits.js';
import { admin, DATABASE_URL, deleteTestRows, KEY, storedRow, USER_BASE, USER_SPAN } from './support.js';
import { DEFAULT_API_AUTH } from '../../../tests/support/api-keys.js';

// ---------------------------------------------------------------- ranges and instants

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

// ---------------------------------------------------------------- fields and invalid values

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

type Op = AnyOp<Field>;
type Noise = { op: 'shadow'; field: Field; value: Json } | { op: 'dropUuid'; field: Field };

const corruptOp: fc.Arbitrary<Op> = fc
  .constantFrom(...FIELDS)
  .chain((field) => fc.record({ op: fc.constant('corrupt' as const), field: fc.constant(field), value: INVALID[field], duplicate: fc.boolean() }));
const dropOp: fc.Arbitrary<Op> = fc.record({ op: fc.constant('drop' as const), field: fc.constantFrom(...REQUIRED) });
const unknownOp: fc.Arbitrary<Op> = fc.record({ op: fc.constant('unknown' as const), key: unknownKey, value: anyJson, first: fc.boolean() });
const noiseOp: fc.Arbitrary<Noise> = fc.oneof(
  fc.record({ op: fc.constant('shadow' as const), field: fc.constantFrom(...FIELDS), value: fc.oneof(anyJson, hostile(0, 3)) }),
  fc.record({ op: fc.constant('dropUuid' as const), field: fc.constant('event_uuid' as const) }),
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
 * event_uuid), then the invalidating operations (applyOps), tracking which field ends up broken:
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
  const applied = applyOps(members, state, ops);
  const paths = new Set<string>();
  for (const [k, s] of state) if (s === 'invalid') paths.add(k);
  for (const f of REQUIRED) if (!state.has(f)) paths.add(f);
  if (applied.unknown) paths.add('');
  const obj = new Obj(applied.members);
  const ops$ = describeOps([...noise, ...ops]);
  switch (how) {
    case 'none': {
      const uuid = state.get('event_uuid') === 'valid' ? (base.event_uuid as string).toLowerCase() : undefined;
      return { body: obj, paths: [...paths].sort(), ops: ops$, ...(uuid ? { uuid } : {}) };
    }
    case 'nest':
      return { body: new Obj([['event', obj]]), paths: ['', ...REQUIRED].sort(), ops: `${ops$} under "event"` };
    default:
      return wrapped(obj, how, ops$);
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

// ---------------------------------------------------------------- paths

/** Raw path segments a client might send, each decoding to something that is not a uuid. */
const RAW_SEGMENTS = ['%', '%%', '%ZZ', '%FF', '%C0%80', '%00', '%2e%2e%2f', '1%00', '%20', '%E2%80%AE', 'x%2Fy', '%252F', '%u0031'];

// ---------------------------------------------------------------- the app

let db: TelemetryDb;
let server: RunningServer;
const { serverErrors, tally, send, count, problemOf, summary } = fuzzHttp(() => server.url, () => KEY.headers);
/** Items of the batches answered item by item (each one invalid). */
let batchItems = 0;

/** Expected status of a single-event POST whose JSON is fine but whose content is not. */
const singleStatus = (bytes: Uint8Array) => (bytes.length > SINGLE_MAX_BODY_BYTES ? 413 : 422);

beforeAll(async () => {
  const log = pino({ level: 'warn' }, { write: (s: string) => void serverErrors.push(s) });
  db = createTelemetryDb(DATABASE_URL);
  const { app } = createApp({ db, log, config: { auth: DEFAULT_API_AUTH } });
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
        batchItems += items.length;
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
    console.log(
      summary({
        api: 'telemetry-api',
        statusNote: ` (200 = batches answered item by item, all ${batchItems} items invalid)`,
        stored,
        storedNote: ` (${invalidUuids.size} uuids checked)`,
        validNoun: 'events',
      }),
    );
    expect(stored).toBe(0);
    expect(tally.fiveXX).toBe(0);
  });
});