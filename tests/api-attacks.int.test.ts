import http from 'node:http';
import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_SCOPES, generateKey, type Scope } from '@cdc/auth';
import { closeKeyDatabases, openKeyDatabases, revokeKey } from '../scripts/keys/keyring.js';
import { loadStackConfig } from '../scripts/stack/config.js';
import { up } from '../scripts/stack/stack.js';
import { bearer, createTestKey, type TestKey } from './support/api-keys.js';
import { startApp, type RunningApp } from './support/apps.js';
import { env, pools } from './support/cdc.js';
import { holdSocket, timed, trickle, type HeldSocket } from './support/slow-clients.js';

/**
 * The attack suite for the two APIs (docs/security.md): every route with no key, a
 * malformed, unknown, wrong-secret, revoked, expired and out-of-scope key; paths and
 * headers that try to route around the check; SQL through every parameter; slow and
 * idle connections. Every attempt must be refused with the right status and leave
 * nothing behind: no row, no changed row, no audit entry, no personal data in an
 * answer. The APIs run as processes, as deployed, against the tests' databases; the
 * stream processor's /query is the test stack's own.
 */

const TAG = randomBytes(4).toString('hex');
const ATTACK_USER_BASE = randomInt(100_000_000, 800_000_000);
// /ready and /metrics behind ops:read (the default leaves them open), so they are attacked too.
const TIMEOUTS = { API_HEADERS_TIMEOUT_MS: '3000', API_REQUEST_TIMEOUT_MS: '5000', API_OPS_ENDPOINTS: 'key' };

const db = pools();
let crm: RunningApp;
let telemetry: RunningApp;
const processorUrl = `http://127.0.0.1:${env.STREAM_PROCESSOR_PORT}`;
let all: TestKey;
const badKeys: string[] = [];
let fixtureUser: Record<string, unknown> & { id: number; email: string; phone: string };
let fixtureEvent: string;

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** node:http, not fetch: the path goes out byte for byte (fetch would normalize %2e%2e, //, …). */
function raw(base: string, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Answer> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: hostname, port, method, path, headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers }, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const event = (over: Record<string, unknown> = {}) => ({
  event_uuid: randomUUID(),
  user_id: ATTACK_USER_BASE + 1,
  prosthesis_type: 'myoelectric_hand',
  muscle_group: 'forearm_flexors',
  signal_frequency: 1000,
  signal_duration: 250,
  signal_amplitude: 0.5,
  event_timestamp: '2026-12-01T10:00:00.000001Z',
  ...over,
});

/** One valid request per secured route: only the key may stop it. */
function requestFor(route: string): { base: string; method: string; path: string; body?: string } {
  const u = () => crm.url;
  const t = () => telemetry.url;
  const table: Record<string, () => { base: string; method: string; path: string; body?: string }> = {
    'crm POST /users': () => ({ base: u(), method: 'POST', path: '/users', body: JSON.stringify({ name: 'Intruder', email: `attack-${TAG}-${randomBytes(3).toString('hex')}@example.com` }) }),
    'crm GET /users': () => ({ base: u(), method: 'GET', path: '/users?limit=500' }),
    'crm GET /users/{id}': () => ({ base: u(), method: 'GET', path: `/users/${fixtureUser.id}` }),
    'crm PATCH /users/{id}': () => ({ base: u(), method: 'PATCH', path: `/users/${fixtureUser.id}`, body: JSON.stringify({ name: 'pwned' }) }),
    'crm POST /users/{id}/erase': () => ({ base: u(), method: 'POST', path: `/users/${fixtureUser.id}/erase` }),
    'crm DELETE /users/{id}': () => ({ base: u(), method: 'DELETE', path: `/users/${fixtureUser.id}` }),
    'crm GET /ready': () => ({ base: u(), method: 'GET', path: '/ready' }),
    'crm GET /metrics': () => ({ base: u(), method: 'GET', path: '/metrics' }),
    'telemetry POST /telemetry-events': () => ({ base: t(), method: 'POST', path: '/telemetry-events', body: JSON.stringify(event()) }),
    'telemetry POST /telemetry-events/batch': () => ({ base: t(), method: 'POST', path: '/telemetry-events/batch', body: JSON.stringify({ events: [event(), event()] }) }),
    'telemetry GET /telemetry-events/{event_uuid}': () => ({ base: t(), method: 'GET', path: `/telemetry-events/${fixtureEvent}` }),
    'telemetry GET /ready': () => ({ base: t(), method: 'GET', path: '/ready' }),
    'telemetry GET /metrics': () => ({ base: t(), method: 'GET', path: '/metrics' }),
    'processor GET /query': () => ({ base: processorUrl, method: 'GET', path: `/query?sql=${encodeURIComponent('SELECT email, phone FROM default.users LIMIT 5')}` }),
    'processor POST /query': () => ({ base: processorUrl, method: 'POST', path: '/query', body: JSON.stringify({ sql: 'SELECT email, phone FROM default.users LIMIT 5' }) }),
  };
  const make = table[route];
  if (!make) throw new Error(`the attack suite has no request for ${route}: add one`);
  return make();
}

/** Every route /openapi.json says needs a scope, with that scope. */
async function securedRoutes(): Promise<{ route: string; scope: Scope }[]> {
  const out: { route: string; scope: Scope }[] = [];
  for (const [app, base] of [['crm', crm.url], ['telemetry', telemetry.url], ['processor', processorUrl]] as const) {
    const doc = (await (await fetch(`${base}/openapi.json`)).json()) as { paths: Record<string, Record<string, { security?: Record<string, string[]>[] }>> };
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const scope = op.security?.[0]?.apiKey?.[0];
        if (scope) out.push({ route: `${app} ${method.toUpperCase()} ${path}`, scope: scope as Scope });
      }
    }
  }
  return out;
}

async function fixtureRow(): Promise<Record<string, unknown> | undefined> {
  const { rows } = await db.crm.query('SELECT * FROM users WHERE id = $1', [fixtureUser.id]);
  return rows[0];
}

const tally = { attempts: 0, refused: 0 };
function refusedWith(a: Answer, status: number, what: string): void {
  tally.attempts++;
  expect(a.status, `${what}: ${a.body.slice(0, 300)}`).toBe(status);
  expect(a.headers['content-type'], what).toBe('application/problem+json');
  expect(a.body, what).not.toContain(fixtureUser.email);
  expect(a.body, what).not.toContain(fixtureUser.phone);
  if (status === 401) expect(a.headers['www-authenticate'], what).toMatch(/^Bearer realm=/);
  tally.refused++;
}

beforeAll(async () => {
  await up(loadStackConfig(), ['apps']);
  [crm, telemetry] = await Promise.all([startApp('crm-api', TIMEOUTS), startApp('telemetry-api', TIMEOUTS)]);
  all = await createTestKey({ name: 'attack suite' });
  const { rows } = await db.crm.query(
    `INSERT INTO users (name, email, phone, address, country) VALUES ('Fixture Person', $1, '+380 44 000 0000', '1 Secret St', 'Ukraine') RETURNING *`,
    [`attack-fixture-${TAG}@example.com`],
  );
  fixtureUser = rows[0];
  const e = event({ user_id: ATTACK_USER_BASE });
  await db.telemetry.query(
    `INSERT INTO telemetry_events (event_uuid, user_id, prosthesis_type, muscle_group, signal_frequency, signal_duration, signal_amplitude, event_timestamp)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [e.event_uuid, e.user_id, e.prosthesis_type, e.muscle_group, e.signal_frequency, e.signal_duration, e.signal_amplitude, e.event_timestamp],
  );
  fixtureEvent = e.event_uuid;
}, 120_000);

afterAll(async () => {
  await Promise.allSettled([crm?.stop(), telemetry?.stop()]);
  await db.crm.query('DELETE FROM users WHERE email LIKE $1', [`attack-%${TAG}%`]).catch(() => undefined);
  await db.telemetry.query('DELETE FROM telemetry_events WHERE user_id >= $1 AND user_id < $2', [ATTACK_USER_BASE, ATTACK_USER_BASE + 1000]).catch(() => undefined);
  console.log(`[attacks] ${tally.refused} of ${tally.attempts} attempts refused with the expected status`);
  await Promise.allSettled([db.crm.end(), db.telemetry.end()]);
});

describe('API keys on every route', () => {
  it('refuses no key, a malformed, unknown, wrong-secret, revoked and expired key (401) and a key without the scope (403)', async () => {
    const routes = await securedRoutes();
    expect(routes.map((r) => r.route).sort()).toEqual(
      [
        'crm DELETE /users/{id}', 'crm GET /metrics', 'crm GET /ready', 'crm GET /users', 'crm GET /users/{id}', 'crm PATCH /users/{id}', 'crm POST /users', 'crm POST /users/{id}/erase',
        'telemetry GET /metrics', 'telemetry GET /ready', 'telemetry GET /telemetry-events/{event_uuid}', 'telemetry POST /telemetry-events', 'telemetry POST /telemetry-events/batch',
        'processor GET /query', 'processor POST /query',
      ].sort(),
    );
    const revoked = await createTestKey({ name: 'revoked' });
    const dbs = openKeyDatabases(env);
    await revokeKey(dbs, revoked.id).finally(() => closeKeyDatabases(dbs));
    const expired = await createTestKey({ name: 'expired', expiresAt: new Date(Date.now() - 1000) });
    const lacking = new Map<Scope, TestKey>();
    for (const scope of ALL_SCOPES) lacking.set(scope, await createTestKey({ name: `lacks ${scope}`, scopes: ALL_SCOPES.filter((s) => s !== scope) }));
    badKeys.push(revoked.id, expired.id, ...[...lacking.values()].map((k) => k.id));

    const credentials: [string, Record<string, string>][] = [
      ['no key', {}],
      ['not a bearer token', { authorization: `Basic ${btoa('admin:admin')}` }],
      ['malformed', { authorization: 'Bearer cdc_0123' }],
      ['unknown', bearer(generateKey().token)],
      ['wrong secret', bearer(`cdc_${all.id}_${generateKey().secret}`)],
      ['revoked', revoked.headers],
      ['expired', expired.headers],
    ];
    for (const { route, scope } of routes) {
      for (const [what, headers] of credentials) {
        const r = requestFor(route);
        refusedWith(await raw(r.base, r.method, r.path, headers, r.body), 401, `${route} with ${what}`);
      }
      const r = requestFor(route);
      refusedWith(await raw(r.base, r.method, r.path, lacking.get(scope)!.headers, r.body), 403, `${route} with a key lacking ${scope}`);
    }
  });

  it('does not let paths or headers route around the check', async () => {
    const id = fixtureUser.id;
    const tricks = [
      `/users%2F${id}`, '/%75sers', '/%2575sers', '/users/%2e%2e/health', '/health/..%2fusers', '/health/../users', '//users', '/users/',
      `/users/${id}/`, '/users;x=1', '/USERS', `/users/${id}%00`, '/users/..%2f..%2fusers', '/./users', '/users?x=/health', '/health%3F/../users',
      `/users/${id}#/health`, '/docs/../users', '/docs/..%2fusers', '/openapi.json/../users', `/users/${id}%20`, `/users/+${id}`,
    ];
    for (const path of tricks) {
      const a = await raw(crm.url, 'GET', path);
      tally.attempts++;
      // A path that normalizes to an open one (/users/%2e%2e/health is /health) may
      // answer as that one; anything else is refused or not found.
      if (a.status === 200) expect(JSON.parse(a.body), `GET ${path}`).toEqual({ status: 'ok', service: 'crm-api' });
      else expect([400, 401, 404], `GET ${path}: ${a.status} ${a.body.slice(0, 200)}`).toContain(a.status);
      expect(a.body).not.toContain(fixtureUser.email);
      tally.refused++;
    }
    const reader = await createTestKey({ name: 'reader', scopes: ['users:read'] });
    badKeys.push(reader.id);
    const rewrites = { 'x-original-url': '/health', 'x-rewrite-url': '/health', 'x-forwarded-prefix': '/health', 'x-forwarded-for': '127.0.0.1' };
    refusedWith(await raw(crm.url, 'GET', '/users', rewrites), 401, 'GET /users with rewrite headers');
    refusedWith(
      await raw(crm.url, 'POST', '/users', { ...reader.headers, 'x-http-method-override': 'GET', 'x-method-override': 'GET' }, JSON.stringify({ name: 'x', email: `attack-${TAG}-override@example.com` })),
      403,
      'POST /users with a read key and a method override',
    );
    refusedWith(await raw(crm.url, 'DELETE', `/users/${id}`, { authorization: `bearer  ${reader.token}` }), 401, 'two spaces after the scheme');
    // Headers larger than Node's 16 KiB limit never reach the app.
    const big = await raw(crm.url, 'GET', '/users', { ...all.headers, 'x-pad': 'a'.repeat(20_000) });
    expect(big.status).toBe(431);
  });

  it('left nothing behind: no user or event stored, the fixture unchanged, no audit entry for a refused key', async () => {
    expect(await fixtureRow()).toEqual(fixtureUser);
    const users = await db.crm.query('SELECT count(*)::int AS n FROM users WHERE email LIKE $1', [`attack-${TAG}-%`]);
    expect(users.rows[0].n).toBe(0);
    const events = await db.telemetry.query('SELECT count(*)::int AS n FROM telemetry_events WHERE user_id >= $1 AND user_id < $2', [ATTACK_USER_BASE, ATTACK_USER_BASE + 1000]);
    expect(events.rows[0].n).toBe(1);
    for (const pool of [db.crm, db.telemetry]) {
      const audit = await pool.query('SELECT count(*)::int AS n FROM auth.audit_log WHERE key_id = ANY($1) OR target = $2', [badKeys, `users/${fixtureUser.id}`]);
      expect(audit.rows[0].n).toBe(0);
    }
  });
});

describe('SQL in every parameter', () => {
  const INJECTIONS = ["1 OR 1=1", "1; DROP TABLE users", "1'--", "' OR '1'='1", '1) UNION SELECT email FROM users--', '$1', '1::text'];

  it('refuses SQL in path and query parameters (422) and stores SQL in strings as plain text', async () => {
    for (const sql of INJECTIONS) {
      const q = encodeURIComponent(sql);
      for (const path of [`/users/${q}`, `/users?limit=${q}`, `/users?cursor=${q}`]) {
        const a = await raw(crm.url, 'GET', path, all.headers);
        tally.attempts++;
        expect(a.status, `GET ${path}`).toBe(422);
        tally.refused++;
      }
      const p = await raw(crm.url, 'PATCH', `/users/${q}`, all.headers, JSON.stringify({ name: 'x' }));
      expect(p.status).toBe(422);
      const g = await raw(telemetry.url, 'GET', `/telemetry-events/${q}`, all.headers);
      expect(g.status).toBe(422);
      tally.attempts += 2;
      tally.refused += 2;
    }
    const before = await db.crm.query('SELECT count(*)::int AS n FROM users');
    const name = "Robert'); DROP TABLE users;--";
    const created = await raw(crm.url, 'POST', '/users', all.headers, JSON.stringify({ name, email: `attack-sql-${TAG}@example.com`, address: "1' OR '1'='1" }));
    expect(created.status, created.body).toBe(201);
    const { rows } = await db.crm.query('SELECT name, address FROM users WHERE email = $1', [`attack-sql-${TAG}@example.com`]);
    expect(rows).toEqual([{ name, address: "1' OR '1'='1" }]);
    const after = await db.crm.query('SELECT count(*)::int AS n FROM users');
    expect(after.rows[0].n).toBeGreaterThanOrEqual(before.rows[0].n + 1);
    const label = "x'); DELETE FROM telemetry_events;--";
    const stored = await raw(telemetry.url, 'POST', '/telemetry-events', all.headers, JSON.stringify(event({ prosthesis_type: label, user_id: ATTACK_USER_BASE + 2 })));
    expect(stored.status, stored.body).toBe(201);
    const ev = await db.telemetry.query('SELECT prosthesis_type FROM telemetry_events WHERE user_id = $1', [ATTACK_USER_BASE + 2]);
    expect(ev.rows).toEqual([{ prosthesis_type: label }]);
    expect((await db.telemetry.query('SELECT 1 FROM telemetry_events WHERE event_uuid = $1', [fixtureEvent])).rowCount).toBe(1);
  });
});

describe('SQL through /query', () => {
  it('runs nothing that writes, changes settings or escapes the row limit', async () => {
    const post = (body: unknown) => raw(processorUrl, 'POST', '/query', all.headers, JSON.stringify(body));
    // 400: refused before ClickHouse (query-route.ts); 422: ClickHouse refused it (readonly=1, the analyst's grants).
    const refused: [unknown, number[]][] = [
      [{ sql: 'SELECT 1; DROP TABLE default.users' }, [400]],
      [{ sql: 'DROP TABLE default.users' }, [400, 422]],
      [{ sql: "INSERT INTO default.users (id, email) VALUES (-1, 'x@y.z')" }, [400, 422]],
      [{ sql: 'ALTER TABLE default.users DELETE WHERE 1' }, [400, 422]],
      [{ sql: 'SELECT 1 SETTINGS readonly = 0' }, [400, 422]],
      [{ sql: 'SET readonly = 0' }, [400, 422]],
      [{ sql: "SELECT * FROM url('http://127.0.0.1:1/', CSV, 'x String')" }, [400, 422]],
      [{ sql: "SELECT 1 INTO OUTFILE '/tmp/attack.csv'" }, [400]],
      [{ sql: 'SELECT 1', max_rows: '1 OR 1=1' }, [400]],
      [{ sql: 'SELECT 1', timeout_s: '1; DROP TABLE default.users' }, [400]],
    ];
    for (const [body, status] of refused) {
      const a = await post(body);
      tally.attempts++;
      expect(status, `${JSON.stringify(body)}: ${a.status} ${a.body.slice(0, 300)}`).toContain(a.status);
      tally.refused++;
    }
    const q = await raw(processorUrl, 'GET', `/query?sql=${encodeURIComponent("SELECT count() AS n FROM system.tables WHERE database = 'default' AND name = 'users'")}`, all.headers);
    expect(q.status).toBe(200);
    expect(Number(JSON.parse(q.body).rows[0][0])).toBe(1);
  });
});

describe('slow and idle clients', () => {
  it('cuts idle, slowloris and slow-body connections within the timeouts while normal requests go on', async () => {
    const port = Number(new URL(telemetry.url).port);
    const get = async () => (await fetch(`${telemetry.url}/telemetry-events/${fixtureEvent}`, { headers: all.headers })).status === 200;
    const baseline = await timed(50, get);

    const held: { kind: string; socket: HeldSocket }[] = [];
    const open = async (kind: string, n: number, behave: Parameters<typeof holdSocket>[1]) => {
      for (let i = 0; i < n; i++) held.push({ kind, socket: await holdSocket(port, behave) });
    };
    const started = performance.now();
    await open('idle', 300, () => {});
    await open('slow headers', 100, (s) =>
      trickle(s, ['GET /telemetry-events HTTP/1.1\r\n', 'Host: 127.0.0.1\r\n', ...Array.from({ length: 40 }, (_, i) => `X-Slow-${i}: ${i}\r\n`)], 500),
    );
    const body = JSON.stringify(event({ user_id: ATTACK_USER_BASE + 3 }));
    await open('slow body', 50, (s) => {
      s.write(`POST /telemetry-events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${all.headers.authorization}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`);
      trickle(s, body.split(''), 500);
    });
    await open('slow body, no key', 20, (s) => {
      s.write(`POST /telemetry-events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`);
      trickle(s, body.split(''), 500);
    });
    const during = await timed(50, get);
    const openDuring = held.filter((h) => h.socket.closedAfterMs() === undefined).length;

    // Headers timeout 3 s, request timeout 5 s, checked every second: all gone by 8 s.
    const deadline = started + 12_000;
    while (held.some((h) => h.socket.closedAfterMs() === undefined) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    const lasted = (kind: string) => Math.max(...held.filter((h) => h.kind === kind).map((h) => h.socket.closedAfterMs() ?? Infinity));
    const figures = {
      connections: held.length,
      openWhileMeasured: openDuring,
      baseline: { p50: +baseline.p50.toFixed(1), p99: +baseline.p99.toFixed(1) },
      during: { p50: +during.p50.toFixed(1), p99: +during.p99.toFixed(1) },
      closedWithinMs: Object.fromEntries(['idle', 'slow headers', 'slow body', 'slow body, no key'].map((k) => [k, Math.round(lasted(k))])),
    };
    console.log(`[attacks] slow and idle clients: ${JSON.stringify(figures)}`);

    expect(during.ok).toBe(50);
    expect(openDuring).toBeGreaterThan(400);
    for (const h of held) expect(h.socket.closedAfterMs(), h.kind).toBeDefined();
    expect(lasted('idle')).toBeLessThan(9_000);
    expect(lasted('slow headers')).toBeLessThan(9_000);
    expect(lasted('slow body')).toBeLessThan(11_000);
    for (const h of held.filter((x) => x.kind === 'slow headers' || x.kind === 'slow body')) expect(h.socket.received(), h.kind).toMatch(/^HTTP\/1\.1 408/);
    for (const h of held.filter((x) => x.kind === 'slow body, no key')) expect(h.socket.received()).toMatch(/^HTTP\/1\.1 401/);
    const stored = await db.telemetry.query('SELECT count(*)::int AS n FROM telemetry_events WHERE user_id = $1', [ATTACK_USER_BASE + 3]);
    expect(stored.rows[0].n).toBe(0);
    expect(await get()).toBe(true);
  }, 60_000);
});
