import { createRoute, z } from '@hono/zod-openapi';
import { generateKey, type Scope } from '@cdc/auth';
import type { ApiAuthConfig } from '@cdc/config';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createApiApp, createHttpMetrics, ProblemType, requires, type StoredKey } from '../src/index.js';

/**
 * The key check through a two-route app, keys in memory: the store is the one faked
 * boundary (the APIs' tests and the attack suite use real keys in PostgreSQL).
 */
class MemoryKeys {
  readonly keys = new Map<string, StoredKey>();
  reads = 0;
  down = false;
  add(scopes: Scope[], extra: Partial<StoredKey> = {}): string {
    const k = generateKey();
    this.keys.set(k.id, { id: k.id, name: 'k', secretSha256: k.secretSha256, scopes, ratePerSecond: 0, expiresAt: null, revokedAt: null, ...extra });
    return k.token;
  }
  async find(id: string) {
    this.reads++;
    if (this.down) throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    return this.keys.get(id);
  }
}

const config = (over: Partial<ApiAuthConfig> = {}): ApiAuthConfig => ({ mode: 'required', opsEndpoints: 'key', keyCacheMs: 0, defaultRatePerSecond: 100, ...over });

function makeApp(keys: MemoryKeys, auth = config()) {
  let bodiesRead = 0;
  const app = createApiApp({
    service: 'test',
    title: 'Test API',
    version: '0.0.0',
    description: 'test',
    log: pino({ level: 'silent' }),
    metrics: createHttpMetrics('test'),
    readiness: [],
    maxBodyBytes: 1024,
    auth: { config: auth, keys, store: 'test_db' },
  });
  app.openapi(
    createRoute({
      method: 'post',
      path: '/things',
      ...requires('things:write'),
      request: { body: { content: { 'application/json': { schema: z.object({ n: z.int() }) } } } },
      responses: { 201: { description: 'created' } },
    }),
    (c) => {
      bodiesRead++;
      return c.json({ by: c.get('caller').keyId }, 201);
    },
  );
  app.openapi(
    createRoute({ method: 'get', path: '/things/{id}', ...requires('things:read'), request: { params: z.object({ id: z.string() }) }, responses: { 200: { description: 'one' } } }),
    (c) => c.json({ id: c.req.valid('param').id }, 200),
  );
  return { app, bodiesRead: () => bodiesRead };
}

const post = (app: ReturnType<typeof makeApp>['app'], token: string | undefined, body = '{"n":1}') =>
  app.request('/things', { method: 'POST', body, headers: { 'content-type': 'application/json', ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) } });

async function problemOf(res: Response, status: number) {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toBe('application/problem+json');
  return (await res.json()) as { type: string; detail: string; reason: string };
}

describe('the API key check', () => {
  it('lets a key with the scope through and names its key id to the handler', async () => {
    const keys = new MemoryKeys();
    const token = keys.add(['things:write' as Scope]);
    const res = await post(makeApp(keys).app, token);
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({ by: token.slice(4, 20) });
  });

  it('answers 401 with WWW-Authenticate to no key, a malformed one, an unknown one and a wrong secret, alike for the last two', async () => {
    const keys = new MemoryKeys();
    const good = keys.add(['things:write' as Scope]);
    const { app, bodiesRead } = makeApp(keys);
    const missing = await post(app, undefined);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer realm="test"');
    expect((await problemOf(missing, 401)).reason).toBe('missing');
    for (const bad of ['x', `${good} extra`, good.toUpperCase(), good.slice(0, -1)]) {
      const res = await post(app, bad);
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="test", error="invalid_token"');
      expect((await problemOf(res, 401)).type).toBe(ProblemType.unauthorized);
    }
    const unknown = await problemOf(await post(app, generateKey().token), 401);
    const wrongSecret = await problemOf(await post(app, good.slice(0, 21) + generateKey().secret), 401);
    expect(unknown.detail).toBe(wrongSecret.detail);
    expect([unknown.reason, wrongSecret.reason]).toEqual(['invalid', 'invalid']);
    const basic = await app.request('/things', { method: 'POST', body: '{"n":1}', headers: { 'content-type': 'application/json', authorization: `Basic ${btoa('a:b')}` } });
    await problemOf(basic, 401);
    expect(bodiesRead()).toBe(0);
  });

  it('refuses a revoked and an expired key, saying which', async () => {
    const keys = new MemoryKeys();
    const revoked = keys.add(['things:write' as Scope], { revokedAt: new Date(Date.now() - 1000) });
    const expired = keys.add(['things:write' as Scope], { expiresAt: new Date(Date.now() - 1000) });
    const later = keys.add(['things:write' as Scope], { expiresAt: new Date(Date.now() + 60_000) });
    const { app } = makeApp(keys);
    expect((await problemOf(await post(app, revoked), 401)).reason).toBe('revoked');
    expect((await problemOf(await post(app, expired), 401)).reason).toBe('expired');
    expect((await post(app, later)).status).toBe(201);
  });

  it('answers 403 to a key without the route scope, before reading the body', async () => {
    const keys = new MemoryKeys();
    const reader = keys.add(['things:read' as Scope]);
    const { app, bodiesRead } = makeApp(keys);
    const p = await problemOf(await post(app, reader, 'not json at all'), 403);
    expect(p.type).toBe(ProblemType.forbidden);
    expect(p.detail).toContain('things:write');
    expect((await app.request('/things/7', { headers: { authorization: `Bearer ${reader}` } })).status).toBe(200);
    expect((await app.request('/things/7', { method: 'HEAD', headers: { authorization: `Bearer ${reader}` } })).status).toBe(200);
    expect(bodiesRead()).toBe(0);
  });

  it('answers 429 with Retry-After once a key is over its rate, and other keys go on', async () => {
    const keys = new MemoryKeys();
    const slow = keys.add(['things:write' as Scope], { ratePerSecond: 3 });
    const defaulted = keys.add(['things:write' as Scope], { ratePerSecond: null });
    const { app } = makeApp(keys, config({ defaultRatePerSecond: 2 }));
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await post(app, slow)).status);
    expect(statuses).toEqual([201, 201, 201, 429, 429]);
    const limited = await post(app, slow);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await problemOf(limited, 429)).type).toBe(ProblemType.rateLimited);
    expect([(await post(app, defaulted)).status, (await post(app, defaulted)).status, (await post(app, defaulted)).status]).toEqual([201, 201, 429]);
  });

  it('keeps /health and the docs open, and /ready and /metrics behind ops:read unless configured open', async () => {
    const keys = new MemoryKeys();
    const ops = keys.add(['ops:read']);
    const writer = keys.add(['things:write' as Scope]);
    const closed = makeApp(keys).app;
    for (const path of ['/health', '/openapi.json', '/docs', '/docs/swagger-ui.css']) expect((await closed.request(path)).status, path).toBe(200);
    for (const path of ['/ready', '/metrics']) {
      await problemOf(await closed.request(path), 401);
      await problemOf(await closed.request(path, { headers: { authorization: `Bearer ${writer}` } }), 403);
      expect((await closed.request(path, { headers: { authorization: `Bearer ${ops}` } })).status).toBe(200);
    }
    const open = makeApp(keys, config({ opsEndpoints: 'open' })).app;
    for (const path of ['/ready', '/metrics']) expect((await open.request(path)).status).toBe(200);
    // Open means GET only, and an unknown path still needs a key (no route map for strangers).
    await problemOf(await open.request('/health', { method: 'POST' }), 401);
    await problemOf(await open.request('/nope'), 401);
    expect((await open.request('/nope', { headers: { authorization: `Bearer ${writer}` } })).status).toBe(404);
  });

  it('documents the scheme and each route scope in /openapi.json', async () => {
    const doc = (await (await makeApp(new MemoryKeys()).app.request('/openapi.json')).json()) as {
      components: { securitySchemes: Record<string, { type: string; scheme: string }> };
      paths: Record<string, Record<string, { security?: unknown; responses: Record<string, unknown> }>>;
    };
    expect(doc.components.securitySchemes.apiKey).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.paths['/things']!.post!.security).toEqual([{ apiKey: ['things:write'] }]);
    expect(doc.paths['/ready']!.get!.security).toEqual([{ apiKey: ['ops:read'] }]);
    expect(doc.paths['/health']!.get!.security).toBeUndefined();
  });

  it('answers 503, not 401, while the key store cannot be read', async () => {
    const keys = new MemoryKeys();
    const token = keys.add(['things:write' as Scope]);
    keys.down = true;
    const res = await post(makeApp(keys).app, token);
    expect(res.headers.get('retry-after')).toBe('5');
    expect((await problemOf(res, 503)).detail).toBe('the API key cannot be checked while test_db is unavailable; retry later');
  });

  it('reads a key once per cache interval, unknown ids included', async () => {
    const keys = new MemoryKeys();
    const token = keys.add(['things:write' as Scope]);
    const { app } = makeApp(keys, config({ keyCacheMs: 60_000 }));
    const stranger = generateKey().token;
    await Promise.all([post(app, token), post(app, token), post(app, stranger), post(app, stranger)]);
    for (let i = 0; i < 5; i++) {
      await post(app, token);
      await post(app, stranger);
    }
    expect(keys.reads).toBe(2);
  });

  it('lets everything through with API_AUTH=off, recording the caller as auth-off', async () => {
    const res = await post(makeApp(new MemoryKeys(), config({ mode: 'off' })).app, undefined);
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({ by: 'auth-off' });
  });
});
