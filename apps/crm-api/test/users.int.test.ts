import { User } from '@cdc/schemas';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_BODY_BYTES } from '../src/config.js';
import { encodeCursor } from '../src/cursor.js';
import {
  buildApp,
  countByEmail,
  deleteByEmails,
  errorPaths,
  expectProblem,
  json,
  uniqueEmail,
  type TestApp,
} from './support.js';

let t: TestApp;
const created: string[] = [];

beforeAll(() => {
  t = buildApp();
});
afterAll(async () => {
  await deleteByEmails(t.db, created);
  await t.db.close();
});

const request = (path: string, init?: RequestInit) => t.app.request(path, init);

function newUser(tag: string, extra: Record<string, unknown> = {}) {
  const email = uniqueEmail(tag);
  created.push(email);
  return { name: `Test ${tag}`, email, ...extra };
}

async function createUser(tag: string, extra: Record<string, unknown> = {}): Promise<User> {
  const res = await request('/users', json('POST', newUser(tag, extra)));
  expect(res.status, await res.clone().text()).toBe(201);
  return User.parse(await res.json());
}

describe('POST /users', () => {
  it('stores the user and answers 201 with the User and its Location', async () => {
    const email = uniqueEmail('create');
    created.push(email.toLowerCase());
    const before = Date.now();
    const res = await request(
      '/users',
      json('POST', {
        name: '  Olena Kovalenko ',
        email: `  ${email.toUpperCase()} `,
        age: 34,
        gender: 'female',
        country: 'Ukraine',
        address: 'Kyiv, Khreshchatyk 1',
        phone: '+380441234567',
      }),
    );
    expect(res.status).toBe(201);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const user = User.parse(await res.json());
    expect(res.headers.get('location')).toBe(`/users/${user.id}`);
    expect(user).toMatchObject({
      name: 'Olena Kovalenko',
      email, // trimmed and lower-cased
      age: 34,
      gender: 'female',
      country: 'Ukraine',
      address: 'Kyiv, Khreshchatyk 1',
      phone: '+380441234567',
    });
    expect(user.user_uuid).toMatch(/^[0-9a-f-]{36}$/);
    // ISO 8601 with an offset, set by the database at insert.
    expect(user.registered_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/);
    expect(Math.abs(Date.parse(user.registered_at) - before)).toBeLessThan(60_000);

    // What the API said is what the table holds.
    const row = await t.db.pool.query('SELECT * FROM users WHERE id = $1', [user.id]);
    expect(row.rows[0]).toMatchObject({ email, user_uuid: user.user_uuid, name: 'Olena Kovalenko' });
    const again = await request(res.headers.get('location')!);
    expect(await again.json()).toEqual(user);
  });

  it('accepts optional fields as null or absent, and values at the documented limits', async () => {
    const user = await createUser('limits', { name: 'n'.repeat(200), age: 150, gender: null, phone: 'p'.repeat(50) });
    expect(user).toMatchObject({ age: 150, gender: null, country: null, address: null, phone: 'p'.repeat(50) });
    expect((await createUser('age0', { age: 0 })).age).toBe(0);
  });

  it('rejects a second user with the same e-mail (any case) with 409 naming the field', async () => {
    const first = newUser('dup');
    expect((await request('/users', json('POST', first))).status).toBe(201);
    const res = await request('/users', json('POST', { name: 'Someone else', email: first.email.toUpperCase() }));
    const p = await expectProblem(res, 409);
    expect(p.type).toMatch(/conflict$/);
    expect(p.errors).toEqual([expect.objectContaining({ path: 'email' })]);
    expect(await countByEmail(t.db, first.email)).toBe(1);
  });
});

describe('bad input is refused with a problem listing every issue, and nothing is stored', () => {
  it('malformed JSON → 400', async () => {
    const email = uniqueEmail('malformed');
    const res = await request('/users', json('POST', `{"name": "x", "email": "${email}",`));
    const p = await expectProblem(res, 400);
    expect(p.type).toMatch(/malformed-json$/);
    expect(await countByEmail(t.db, email)).toBe(0);
  });

  it('wrong or missing content type → 415', async () => {
    const email = uniqueEmail('mediatype');
    // Bytes, not a string: fetch would add text/plain to a string body itself.
    const body = new TextEncoder().encode(JSON.stringify({ name: 'x', email }));
    const cases: Record<string, string>[] = [
      { 'content-type': 'text/plain' },
      { 'content-type': 'application/x-www-form-urlencoded' },
      { 'content-type': 'application/jsonp' },
      {},
    ];
    for (const headers of cases) {
      const p = await expectProblem(await request('/users', { method: 'POST', headers, body }), 415);
      expect(p.type).toMatch(/unsupported-media-type$/);
    }
    expect(await countByEmail(t.db, email)).toBe(0);
  });

  it(`body over ${MAX_BODY_BYTES} bytes → 413; exactly the limit is accepted`, async () => {
    const ok = newUser('at-limit');
    const text = JSON.stringify(ok);
    // JSON allows trailing whitespace: pads the body to the exact size.
    const atLimit = text + ' '.repeat(MAX_BODY_BYTES - Buffer.byteLength(text));
    expect((await request('/users', json('POST', atLimit))).status).toBe(201);

    const big = newUser('too-big');
    const bigText = JSON.stringify(big);
    const over = bigText + ' '.repeat(MAX_BODY_BYTES + 1 - Buffer.byteLength(bigText));
    const p = await expectProblem(await request('/users', json('POST', over)), 413);
    expect(p.type).toMatch(/payload-too-large$/);
    expect(p.detail).toContain(String(MAX_BODY_BYTES));
    expect(await countByEmail(t.db, big.email)).toBe(0);
  });

  it('413 also for a streamed body without Content-Length', async () => {
    const big = newUser('streamed');
    const chunk = new TextEncoder().encode(' '.repeat(16 * 1024));
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent === 0) controller.enqueue(new TextEncoder().encode(JSON.stringify(big)));
        if (sent++ < 8) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const res = await request(
      '/users',
      { method: 'POST', headers: { 'content-type': 'application/json' }, body, duplex: 'half' } as RequestInit,
    );
    await expectProblem(res, 413);
    expect(await countByEmail(t.db, big.email)).toBe(0);
  });

  it('422 lists every problem: wrong types, missing, unknown, out of range, over-long, invalid', async () => {
    const email = uniqueEmail('many');
    const res = await request(
      '/users',
      json('POST', {
        name: 'n'.repeat(201), // over-long
        email: `${email}x@`, // not an e-mail (and carries our marker)
        age: 151, // out of range
        gender: 42, // wrong type
        country: 'c'.repeat(101),
        address: 'a'.repeat(501),
        phone: 'p'.repeat(51),
        emial: email, // typo: unknown field
        registered_at: '2000-01-01T00:00:00Z', // database-owned: unknown field
      }),
    );
    const p = await expectProblem(res, 422);
    expect(p.type).toMatch(/validation-error$/);
    expect(errorPaths(p)).toEqual(['', 'address', 'age', 'country', 'email', 'gender', 'name', 'phone']);
    const unknown = p.errors!.find((e) => e.path === '')!;
    expect(unknown.message).toContain('emial');
    expect(unknown.message).toContain('registered_at');
    expect(await countByEmail(t.db, email)).toBe(0);
  });

  it.each([
    ['missing required fields', {}, ['email', 'name']],
    ['wrong types', { name: 5, email: true, age: '34' }, ['age', 'email', 'name']],
    ['non-integer and negative age', { name: 'x', age: 1.5 }, ['age', 'email']],
    ['negative age, blank name', { name: '   ', age: -1, email: 'x@example.com' }, ['age', 'name']],
    ['id and user_uuid cannot be set', { name: 'x', email: 'x@example.com', id: 1, user_uuid: 'x' }, ['']],
    ['not an object', [1, 2], ['']],
    ['null', null, ['']],
  ])('422: %s', async (_, body, paths) => {
    const res = await request('/users', json('POST', JSON.stringify(body)));
    const p = await expectProblem(res, 422);
    expect(errorPaths(p)).toEqual(paths);
  });

  it('422 over-long e-mail; nothing stored', async () => {
    const email = `${'a'.repeat(250)}@example.com`;
    const p = await expectProblem(await request('/users', json('POST', { name: 'x', email })), 422);
    expect(errorPaths(p)).toEqual(['email']);
    expect(await countByEmail(t.db, email)).toBe(0);
  });
});

describe('GET /users/{id}', () => {
  it('200 with the user', async () => {
    const user = await createUser('get');
    const res = await request(`/users/${user.id}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(user);
  });

  it('404 problem for an id nobody has', async () => {
    const p = await expectProblem(await request('/users/2147483647'), 404);
    expect(p.type).toMatch(/not-found$/);
    expect(p.detail).toContain('2147483647');
  });

  it.each(['abc', '0', '-1', '1.5', '0x10', '1e3', '2147483648', '99999999999'])('422 for id %s', async (id) => {
    const p = await expectProblem(await request(`/users/${id}`), 422);
    expect(errorPaths(p)).toEqual(['param.id']);
  });
});

describe('GET /users (keyset pagination)', () => {
  type Page = { items: User[]; next_cursor: string | null };
  const page = async (query: string): Promise<Page> => {
    const res = await request(`/users?${query}`);
    expect(res.status, await res.clone().text()).toBe(200);
    return (await res.json()) as Page;
  };

  it('walks every page without gaps or duplicates, even with deletes and inserts during the walk', async () => {
    const mine: User[] = [];
    for (let i = 0; i < 7; i++) mine.push(await createUser(`page${i}`));
    const first = mine[0]!.id;
    // Start just before our first row: the rest of the table belongs to other suites.
    let cursor: string | null = encodeCursor(first - 1);
    const seen: number[] = [];
    let pages = 0;
    let deleted: number | undefined;
    let inserted: User | undefined;
    while (cursor !== null) {
      const limit = seen.length > 0 && seen.at(-1)! >= (inserted?.id ?? Infinity) ? 500 : 3;
      const p = await page(`limit=${limit}&cursor=${cursor}`);
      pages++;
      for (const u of p.items) User.parse(u);
      seen.push(...p.items.map((u) => u.id));
      if (p.next_cursor !== null) expect(p.items).toHaveLength(limit);
      if (pages === 1) {
        // A row of a later page disappears and a new one appears mid-walk.
        deleted = mine[4]!.id;
        expect((await request(`/users/${deleted}`, { method: 'DELETE' })).status).toBe(204);
        inserted = await createUser('page-late');
      }
      cursor = p.next_cursor;
      expect(pages).toBeLessThan(10_000);
    }
    // Strictly increasing: no duplicates, in id order.
    expect(seen.every((id, i) => i === 0 || id > seen[i - 1]!)).toBe(true);
    const expected = [...mine.map((u) => u.id).filter((id) => id !== deleted), inserted!.id];
    expect(seen.filter((id) => expected.includes(id))).toEqual(expected);
    expect(seen).not.toContain(deleted);
    expect(seen[0]).toBe(first);
  });

  it('defaults to 50 items per page and allows up to 500', async () => {
    const mine: User[] = [];
    for (let i = 0; i < 51; i++) mine.push(await createUser(`default${i}`));
    const p = await page(`cursor=${encodeCursor(mine[0]!.id - 1)}`);
    expect(p.items).toHaveLength(50);
    expect(p.next_cursor).not.toBeNull();
    expect(p.items[0]!.id).toBe(mine[0]!.id);
    const big = await page(`limit=500&cursor=${encodeCursor(mine[0]!.id - 1)}`);
    expect(big.items.map((u) => u.id)).toEqual(expect.arrayContaining(mine.map((u) => u.id)));
    const firstPage = await page('limit=1');
    expect(firstPage.items).toHaveLength(1);
  });

  it('the last page says next_cursor: null', async () => {
    const p = await page(`cursor=${encodeCursor(2147483647)}`);
    expect(p).toEqual({ items: [], next_cursor: null });
  });

  it.each([
    ['limit=0', ['query.limit']],
    ['limit=501', ['query.limit']],
    ['limit=abc', ['query.limit']],
    ['limit=-5', ['query.limit']],
    ['limit=2.5', ['query.limit']],
    ['cursor=', ['query.cursor']],
    ['cursor=not-a-cursor!', ['query.cursor']],
    ['cursor=YWJj', ['query.cursor']], // base64url of "abc"
    ['cursor=MTA%3D', ['query.cursor']], // "MTA=": padded spelling of a real cursor
    ['limit=0&cursor=%%%', ['query.cursor', 'query.limit']],
  ])('422 for %s, listing %j', async (query, paths) => {
    const p = await expectProblem(await request(`/users?${query}`), 422);
    expect(errorPaths(p)).toEqual(paths);
  });
});

describe('PATCH /users/{id}', () => {
  it('changes only the fields sent and returns the user', async () => {
    const user = await createUser('patch', { age: 30, country: 'Poland', phone: '+48' });
    const res = await request(`/users/${user.id}`, json('PATCH', { name: 'Renamed', country: null, age: 31 }));
    expect(res.status).toBe(200);
    const after = User.parse(await res.json());
    expect(after).toEqual({ ...user, name: 'Renamed', country: null, age: 31 });
    expect(await (await request(`/users/${user.id}`)).json()).toEqual(after);
  });

  it('lower-cases a new e-mail', async () => {
    const user = await createUser('patch-email');
    const email = uniqueEmail('patched');
    created.push(email);
    const res = await request(`/users/${user.id}`, json('PATCH', { email: email.toUpperCase() }));
    expect(res.status).toBe(200);
    expect(User.parse(await res.json()).email).toBe(email);
  });

  it('cannot change registered_at, id or user_uuid (422, row unchanged)', async () => {
    const user = await createUser('patch-immutable');
    for (const body of [
      { registered_at: '2000-01-01T00:00:00Z' },
      { name: 'Changed', registered_at: '2000-01-01T00:00:00Z' },
      { id: 1 },
      { user_uuid: '00000000-0000-4000-8000-000000000000' },
    ]) {
      const p = await expectProblem(await request(`/users/${user.id}`, json('PATCH', body)), 422);
      expect(p.errors).toContainEqual(expect.objectContaining({ path: '', code: 'unrecognized_keys' }));
    }
    expect(await (await request(`/users/${user.id}`)).json()).toEqual(user);
  });

  it('409 when the new e-mail belongs to another user; nothing changes', async () => {
    const a = await createUser('patch-dup-a');
    const b = await createUser('patch-dup-b');
    const p = await expectProblem(await request(`/users/${b.id}`, json('PATCH', { email: a.email, name: 'Changed' })), 409);
    expect(p.errors).toEqual([expect.objectContaining({ path: 'email' })]);
    expect(await (await request(`/users/${b.id}`)).json()).toEqual(b);
  });

  it('404 for an absent user, 422 for a bad id or an empty patch', async () => {
    await expectProblem(await request('/users/2147483647', json('PATCH', { name: 'x' })), 404);
    // The path is validated before the body: with no valid target, its body is moot.
    const bad = await expectProblem(await request('/users/abc', json('PATCH', { age: 999 })), 422);
    expect(errorPaths(bad)).toEqual(['param.id']);
    const user = await createUser('patch-empty');
    const empty = await expectProblem(await request(`/users/${user.id}`, json('PATCH', {})), 422);
    expect(empty.errors?.[0]?.message).toMatch(/at least one field/);
  });

  it('400 / 415 / 413 / 422 bad input leaves the row as it was', async () => {
    const user = await createUser('patch-bad');
    await expectProblem(await request(`/users/${user.id}`, json('PATCH', '{"name": ')), 400);
    await expectProblem(
      await request(`/users/${user.id}`, { method: 'PATCH', headers: { 'content-type': 'text/plain' }, body: '{"name":"x"}' }),
      415,
    );
    await expectProblem(
      await request(`/users/${user.id}`, json('PATCH', `{"name":"x"}${' '.repeat(MAX_BODY_BYTES)}`)),
      413,
    );
    const p = await expectProblem(
      await request(`/users/${user.id}`, json('PATCH', { name: '', age: 'old', email: 'nope', phone: 'p'.repeat(51) })),
      422,
    );
    expect(errorPaths(p)).toEqual(['age', 'email', 'name', 'phone']);
    expect(await (await request(`/users/${user.id}`)).json()).toEqual(user);
  });
});

describe('DELETE /users/{id}', () => {
  it('204, then the user is gone (GET and DELETE 404)', async () => {
    const user = await createUser('delete');
    const res = await request(`/users/${user.id}`, { method: 'DELETE' });
    expect(res.status).toBe(204);
    expect(await res.text()).toBe('');
    expect(await countByEmail(t.db, user.email)).toBe(0);
    await expectProblem(await request(`/users/${user.id}`), 404);
    await expectProblem(await request(`/users/${user.id}`, { method: 'DELETE' }), 404);
  });

  it('422 for a bad id', async () => {
    const p = await expectProblem(await request('/users/x', { method: 'DELETE' }), 422);
    expect(errorPaths(p)).toEqual(['param.id']);
  });
});

describe('the frame', () => {
  it('accepts a caller X-Request-Id, echoes it, and logs every line of the request with it', async () => {
    const id = `test-${Date.now()}`;
    const res = await request('/users', json('POST', newUser('reqid'), { 'x-request-id': id }));
    expect(res.status).toBe(201);
    expect(res.headers.get('x-request-id')).toBe(id);
    const lines = t.logLines().filter((l) => l.request_id === id);
    expect(lines.map((l) => l.msg)).toEqual(['user created', 'request']);
    expect(lines[1]).toMatchObject({ method: 'POST', route: '/users', status: 201 });

    const problemRes = await request('/users/abc', { headers: { 'x-request-id': id } });
    expect((await expectProblem(problemRes, 422)).request_id).toBe(id);

    // An id unsafe to log is replaced, not echoed.
    const unsafe = await request('/health', { headers: { 'x-request-id': 'bad id\u0007' } });
    expect(unsafe.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('unknown routes are 404 problems', async () => {
    const p = await expectProblem(await request('/nope'), 404);
    expect(p.type).toMatch(/not-found$/);
  });

  it('/openapi.json documents every route, its bodies and its problem responses', async () => {
    const res = await request('/openapi.json');
    expect(res.status).toBe(200);
    const doc = (await res.json()) as {
      openapi: string;
      info: { description: string };
      paths: Record<string, Record<string, { requestBody?: unknown; responses: Record<string, unknown>; parameters?: { name: string }[] }>>;
      components: { schemas: Record<string, unknown> };
    };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths['/users']!).sort()).toEqual(['get', 'post']);
    expect(Object.keys(doc.paths['/users/{id}']!).sort()).toEqual(['delete', 'get', 'patch']);
    expect(Object.keys(doc.paths['/users']!.post!.responses).sort()).toEqual(['201', '400', '401', '403', '409', '413', '415', '422', '429', '500', '503']);
    expect(Object.keys(doc.paths['/users/{id}']!.patch!.responses)).toEqual(expect.arrayContaining(['200', '404', '409', '422']));
    expect(Object.keys(doc.paths['/users/{id}']!.delete!.responses)).toEqual(expect.arrayContaining(['204', '404']));
    expect(JSON.stringify(doc.paths['/users']!.post!.requestBody)).toContain('#/components/schemas/IncomingUser');
    expect(JSON.stringify(doc.paths['/users/{id}']!.patch!.requestBody)).toContain('#/components/schemas/UserPatch');
    expect(JSON.stringify(doc.paths['/users']!.post!.responses['422'])).toContain('application/problem+json');
    expect(doc.paths['/users']!.get!.parameters!.map((p) => p.name).sort()).toEqual(['cursor', 'limit']);
    expect(Object.keys(doc.components.schemas)).toEqual(expect.arrayContaining(['User', 'IncomingUser', 'UserPatch', 'UserPage', 'Problem']));
    expect(doc.info.description).toContain(`${MAX_BODY_BYTES} bytes`);
    expect(doc.paths['/ready']).toBeDefined();
    expect(doc.paths['/users']!.post!).toMatchObject({ security: [{ apiKey: ['users:write'] }] });
  });

  it('/docs serves the Swagger UI page', async () => {
    const res = await request('/docs');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await res.text();
    expect(html).toMatch(/swagger/i);
    expect(html).toContain('/openapi.json');
  });

  it('/metrics exposes request counters by route and the pool gauges', async () => {
    await request('/users?limit=1');
    const res = await request('/metrics');
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toMatch(/^cdc_http_requests_total\{.*route="\/users".*\} \d+/m);
    expect(text).toMatch(/^cdc_http_request_duration_seconds_bucket\{/m);
    expect(text).toMatch(/^cdc_db_pool_connections_open\{pool="crm",service="crm-api"\} \d+/m);
    expect(text).toMatch(/^cdc_db_pool_connections_idle\{pool="crm"/m);
    expect(text).toMatch(/^cdc_db_pool_clients_waiting\{pool="crm"/m);
  });

  it('/ready is 200 when the database answers; /health is 200', async () => {
    const ready = await request('/ready');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready', checks: [{ name: 'crm_db', ok: true }] });
    expect((await request('/health')).status).toBe(200);
  });
});
