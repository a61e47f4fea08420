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
 *
 * What both APIs' fuzz files use (generators, raw bodies, the wire, the tally) is in
 * tests/support/fuzz-http.ts; this file holds the CRM's fields, routes and rows.
 */
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { createCrmDb, type CrmDb } from '@cdc/db/crm';
import { startServer, type RunningServer } from '@cdc/http';
import { LIMITS } from '@cdc/schemas';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  anyJson,
  applyOps,
  clip,
  describeOps,
  fcOptions,
  FUZZ_RUNS,
  fuzzHttp,
  hostile,
  invalidInt,
  type Json,
  nonString,
  nonStringOrNull,
  Obj,
  type Op as AnyOp,
  overLong,
  pathsOf,
  rawCases,
  runs,
  SEED,
  statusOfBytes,
  TEST_TIMEOUT_MS,
  toJson,
  UNSTORABLE,
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
import { MAX_BODY_BYTES } from '../src/config.js';
import { CRM_DATABASE_URL, KEY } from './support.js';
import { DEFAULT_API_AUTH } from '../../../tests/support/api-keys.js';

// ---------------------------------------------------------------- markers

/** Lower-case hex: survives the e-mail's lower-casing. */
const INVALID_MARK = `fzx${randomBytes(5).toString('hex')}`;
const VALID_MARK = `fzv${randomBytes(5).toString('hex')}`;

// ---------------------------------------------------------------- invalid values

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

type Op = AnyOp<Field>;
type Noise = { op: 'shadow'; field: Field; value: Json } | { op: 'null'; field: Field } | { op: 'dropOptional'; field: Field };

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

interface Built {
  body: Json;
  /** The error paths the answer must list, exactly. */
  paths: string[];
  ops: string;
}

/**
 * Applies neutral noise (valid duplicates, nulls, absent optionals), then the
 * invalidating operations (applyOps), tracking which field ends up broken: JSON's last
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
  const applied = applyOps(members, state, ops);
  const paths = new Set<string>();
  for (const [k, s] of state) if (s === 'invalid') paths.add(k);
  if (kind === 'create') for (const f of REQUIRED) if (!state.has(f)) paths.add(f);
  if (applied.unknown) paths.add('');
  if (kind === 'patch' && state.size === 0) paths.add(''); // "at least one field"
  const obj = new Obj(applied.members);
  const ops$ = describeOps([...noise, ...ops]);
  switch (how) {
    case 'none':
      return { body: obj, paths: [...paths].sort(), ops: ops$ };
    case 'nest':
      return { body: new Obj([['user', obj]]), paths: kind === 'create' ? ['', 'email', 'name'] : [''], ops: `${ops$} under "user"` };
    default:
      return wrapped(obj, how, ops$);
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

// ---------------------------------------------------------------- the app and its rows

let db: CrmDb;
let server: RunningServer;
const { serverErrors, tally, send, problemOf, summary } = fuzzHttp(() => server.url, () => KEY.headers);

/** Ids this file created (hostile valid users, PATCH targets): the only rows it deletes. */
const createdIds: number[] = [];
type Target = { id: number; row: Record<string, unknown> };
const targets: Target[] = [];

const USER_COLUMNS = 'id, name, email, age, gender, country, address, phone';
async function rowOf(id: number): Promise<Record<string, unknown> | undefined> {
  const { rows } = await db.pool.query(`SELECT ${USER_COLUMNS}, user_uuid::text, registered_at FROM users WHERE id = $1`, [id]);
  return rows[0];
}

beforeAll(async () => {
  const log = pino({ level: 'warn' }, { write: (s: string) => void serverErrors.push(s) });
  db = createCrmDb(CRM_DATABASE_URL);
  const { app } = createApp({ db, log, config: { maxBodyBytes: MAX_BODY_BYTES, auth: DEFAULT_API_AUTH } });
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
        if (expected === 422) expect(pathsOf(p.errors), `${ops}: ${text.slice(0, 300)}`).toEqual(paths);
      }),
      fcOptions(1, runs(0.3)),
    );
  });

  it('POST /users with bytes that are not JSON, not UTF-8, of the wrong type or too large → 400 / 415 / 413', async () => {
    await fc.assert(
      fc.asyncProperty(rawCases(markedUser.map((u) => new Obj(FIELDS.filter((f) => u[f] !== undefined).map((f) => [f, u[f]!]))), MAX_BODY_BYTES, 200_000, 100_000), async (c) => {
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
        if (expected === 422) expect(pathsOf(p.errors), `${ops}: ${text.slice(0, 300)}`).toEqual(paths);
      }),
      fcOptions(3, runs(0.2)),
    );
    for (const t of targets) expect(await rowOf(t.id)).toEqual(t.row);
  });

  it('PATCH /users/{id} with raw bad bytes → 400 / 415 / 413; the user is unchanged', async () => {
    const patch = fc.constant(null).map(() => new Obj([['name', `Fuzz ${INVALID_MARK} patched`], ['email', `${INVALID_MARK}-patch-${++emailSeq}@fuzz.example`]]));
    await fc.assert(
      fc.asyncProperty(rawCases(patch, MAX_BODY_BYTES, 200_000, 100_000), fc.nat(targets.length - 1), async (c, t) => {
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
        if (p.status === 422) expect(pathsOf(p.errors), `${r.method} ${r.path}`).toEqual(r.paths);
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
    console.log(summary({ api: 'crm-api', stored, validNoun: 'users' }));
    expect(stored).toBe(0);
    expect(tally.fiveXX).toBe(0);
  });
});