import { describe, expect, it } from 'vitest';
import { createRoute, z } from '@hono/zod-openapi';
import { pino } from 'pino';
import { createApiApp, createHttpMetrics, PROBLEM_CONTENT_TYPE } from '../src/index.js';
import { AUTH_OFF } from './auth-off.js';
import { connect, type AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';

/** The shared frame, exercised through a one-route app: no servers, no database. */
function makeApp(ready: () => Promise<void> = async () => {}) {
  const app = createApiApp({
    service: 'test',
    title: 'Test API',
    version: '0.0.0',
    description: 'test',
    log: pino({ level: 'silent' }),
    metrics: createHttpMetrics('test'),
    readiness: [{ name: 'database', check: ready }],
    maxBodyBytes: 1024,
    auth: AUTH_OFF,
  });
  app.openapi(
    createRoute({
      method: 'post',
      path: '/things',
      request: { body: { content: { 'application/json': { schema: z.strictObject({ n: z.int(), s: z.string().max(3) }) } } } },
      responses: { 201: { description: 'created' } },
    }),
    (c) => c.json({ ok: true }, 201),
  );
  return app;
}

const post = (body: string, type = 'application/json', headers: Record<string, string> = {}) =>
  makeApp().request('/things', { method: 'POST', body, headers: { 'content-type': type, ...headers } });

describe('createApiApp', () => {
  it('accepts a valid body and returns a request id', async () => {
    const res = await post('{"n":1,"s":"abc"}');
    expect(res.status).toBe(201);
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('echoes an acceptable caller request id and replaces a hostile one', async () => {
    expect((await post('{"n":1,"s":""}', 'application/json', { 'x-request-id': 'abc-123' })).headers.get('x-request-id')).toBe('abc-123');
    expect((await post('{"n":1,"s":""}', 'application/json', { 'x-request-id': '<script>alert(1)</script>' })).headers.get('x-request-id')).not.toBe('<script>alert(1)</script>');
  });

  it.each([
    ['malformed JSON', '{"n":', 'application/json', 400],
    ['wrong content type', '{"n":1,"s":""}', 'text/plain', 415],
    ['body over the limit', JSON.stringify({ n: 1, s: 'x'.repeat(2000) }), 'application/json', 413],
  ])('%s → problem+json', async (_, body, type, status) => {
    const res = await post(body, type);
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toBe(PROBLEM_CONTENT_TYPE);
    const problem = (await res.json()) as { status: number; title: string; instance: string };
    expect(problem).toMatchObject({ status, instance: '/things' });
  });

  it('lets a POST without content through to the route (an action), over HTTP as curl -X POST sends it', async () => {
    const app = makeApp();
    app.openapi(
      createRoute({ method: 'post', path: '/things/{id}/act', request: { params: z.object({ id: z.string() }) }, responses: { 200: { description: 'done' } } }),
      (c) => c.json({ acted: c.req.valid('param').id }, 200),
    );
    const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 });
    await new Promise<void>((r) => server.once('listening', () => r()));
    const { port } = server.address() as AddressInfo;
    try {
      const raw = (head: string) =>
        new Promise<string>((resolve, reject) => {
          const socket = connect(port, '127.0.0.1', () => socket.end(`${head}\r\nHost: x\r\nConnection: close\r\n\r\n`));
          let out = '';
          socket.on('data', (d) => (out += d)).on('end', () => resolve(out)).on('error', reject);
        });
      // No Content-Length and no Transfer-Encoding: no content (curl -X POST), and so Content-Length: 0.
      expect(await raw('POST /things/7/act HTTP/1.1')).toMatch(/^HTTP\/1\.1 200[\s\S]*"acted":"7"/);
      expect(await raw('POST /things/7/act HTTP/1.1\r\nContent-Length: 0')).toMatch(/^HTTP\/1\.1 200/);
      // Content still needs its media type.
      const res = await fetch(`http://127.0.0.1:${port}/things/7/act`, { method: 'POST', body: 'x', headers: { 'content-type': 'text/plain' } });
      expect(res.status).toBe(415);
    } finally {
      server.close();
    }
  });

  it('lists every validation issue at once (422)', async () => {
    const res = await post('{"n":"one","s":"toolong","extra":true}');
    expect(res.status).toBe(422);
    const problem = (await res.json()) as { errors: { path: string }[] };
    expect(problem.errors.map((e) => e.path).sort()).toEqual(['', 'n', 's']);
  });

  it('answers unknown routes with a 404 problem', async () => {
    const res = await makeApp().request('/nope');
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toBe(PROBLEM_CONTENT_TYPE);
  });

  it('/ready is 503 naming the failing dependency, /health stays 200', async () => {
    const app = makeApp(() => Promise.reject(new Error('connection refused')));
    expect((await app.request('/health')).status).toBe(200);
    const res = await app.request('/ready');
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ detail: 'unavailable: database' });
  });

  it('serves OpenAPI, Swagger UI and Prometheus metrics', async () => {
    const app = makeApp();
    await app.request('/things', { method: 'POST', body: '{"n":1,"s":""}', headers: { 'content-type': 'application/json' } });
    const spec = (await (await app.request('/openapi.json')).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(spec.paths)).toContain('/things');
    expect(await (await app.request('/docs')).text()).toContain('swagger');
    const metrics = await (await app.request('/metrics')).text();
    expect(metrics).toMatch(/cdc_http_requests_total\{method="POST",route="\/things",status="201",service="test"\} 1/);
  });
});
