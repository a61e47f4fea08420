import { afterAll, describe, expect, it } from 'vitest';
import { buildApp, countByEmail, CRM_DATABASE_URL, deleteByEmails, expectProblem, json, uniqueEmail, type TestApp } from './support.js';
import { TcpProxy } from '../../../tests/support/tcp-proxy.js';

const target = new URL(CRM_DATABASE_URL);
const viaPort = (port: number) => {
  const u = new URL(CRM_DATABASE_URL);
  u.hostname = '127.0.0.1';
  u.port = String(port);
  return u.toString();
};

// Checks the table directly, never through an app under test.
const direct = buildApp();
const created: string[] = [];
const apps: TestApp[] = [];
const proxy = new TcpProxy(target.hostname, Number(target.port || 5432));

afterAll(async () => {
  await proxy.cut({ stop: true });
  await deleteByEmails(direct.db, created);
  await Promise.all([...apps, direct].map((a) => a.db.close()));
});

async function timed<T>(f: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const t0 = performance.now();
  const value = await f();
  return { value, ms: performance.now() - t0 };
}

function postUser(app: TestApp, tag: string) {
  const email = uniqueEmail(tag);
  created.push(email);
  return { email, send: async () => app.app.request('/users', json('POST', { name: 'Outage', email })) };
}

async function expectUnavailable(res: Response): Promise<void> {
  const p = await expectProblem(res, 503);
  expect(p.type).toMatch(/dependency-unavailable$/);
  expect(res.headers.get('retry-after')).toBe('5');
}

describe('database down', () => {
  it('a database on a closed port: 503 problem fast, /ready 503, /health still 200', async () => {
    const dead = buildApp(viaPort(1));
    apps.push(dead);
    const { email, send } = postUser(dead, 'dead');
    const { value: res, ms } = await timed(send);
    expect(ms).toBeLessThan(3000);
    await expectUnavailable(res);

    await expectUnavailable(await dead.app.request('/users/1'));
    await expectUnavailable(await dead.app.request('/users?limit=5'));
    await expectUnavailable(await dead.app.request('/users/1', json('PATCH', { name: 'x' })));
    await expectUnavailable(await dead.app.request('/users/1', { method: 'DELETE' }));

    const ready = await timed(async () => dead.app.request('/ready'));
    expect(ready.ms).toBeLessThan(3000);
    const p = await expectProblem(ready.value, 503);
    expect(p.detail).toContain('crm_db');
    expect((await dead.app.request('/health')).status).toBe(200);
    expect(await countByEmail(direct.db, email)).toBe(0);
    // The key is checked before the input, and no key can be checked without the
    // database: even a bad body gets 503 here (the next test: 422 with a key read earlier).
    await expectUnavailable(await dead.app.request('/users', json('POST', { name: '' })));
  });

  it('recovers by itself, without a restart, when the database comes back', async () => {
    await proxy.start();
    const app = buildApp(viaPort(proxy.port));
    apps.push(app);

    const before = postUser(app, 'before');
    expect((await before.send()).status).toBe(201);
    expect((await app.app.request('/ready')).status).toBe(200);
    // The pool now holds a live connection through the proxy; the outage kills it.
    expect(app.db.pool.totalCount).toBeGreaterThan(0);

    // Outage: open connections are cut and new ones refused.
    await proxy.cut({ stop: true });
    // The key was read moments ago and is trusted for API_KEY_CACHE_MS: input is checked, 422.
    await expectProblem(await app.app.request('/users', json('POST', { name: '' })), 422);
    const during = postUser(app, 'during');
    const { value: res, ms } = await timed(during.send);
    expect(ms).toBeLessThan(3000);
    await expectUnavailable(res);
    await expectProblem(await app.app.request('/ready'), 503);
    expect(await countByEmail(direct.db, during.email)).toBe(0);

    // Back: the same app instance serves again.
    await proxy.start();
    const after = postUser(app, 'after');
    const ok = await after.send();
    expect(ok.status, await ok.clone().text()).toBe(201);
    expect((await app.app.request('/ready')).status).toBe(200);
    expect(await countByEmail(direct.db, after.email)).toBe(1);
  });

  it('a database that accepts connections but never answers: 503 within the 2 s connect timeout, never a hang', async () => {
    await proxy.start();
    const app = buildApp(viaPort(proxy.port));
    apps.push(app);
    await proxy.cut({ stop: false });
    await proxy.start('blackhole');

    const hung = postUser(app, 'blackhole');
    const { value: res, ms } = await timed(hung.send);
    expect(ms).toBeLessThan(3000);
    await expectUnavailable(res);
    const ready = await timed(async () => app.app.request('/ready'));
    expect(ready.ms).toBeLessThan(3000);
    await expectProblem(ready.value, 503);

    await proxy.cut({ stop: false });
    await proxy.start('forward');
    const after = postUser(app, 'unhung');
    expect((await after.send()).status).toBe(201);
  });
});
