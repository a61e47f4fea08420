import { ClickHouseLogLevel, createClient } from '@clickhouse/client';
import { Registry } from 'prom-client';
import { afterAll, describe, expect, it } from 'vitest';
import { expectOfflineDocs } from '../../../packages/http/test/offline-docs.js';
import { generateKey } from '@cdc/auth';
import { pino } from 'pino';
import { createProcessorHttpApp, type NotReady } from '../src/http-app.js';

/**
 * The processor's HTTP surface in-process: no Kafka, and a ClickHouse that is not
 * there (port 1 refuses at once), which is all /openapi.json, /docs and the
 * input-checking paths of /query need.
 */
const analyst = createClient({ url: 'http://127.0.0.1:1', log: { level: ClickHouseLogLevel.OFF } });
let notReady: NotReady | undefined;
// Keys in memory (the one faked boundary here; tests/api-attacks.int.test.ts uses real ones).
const reader = generateKey();
const other = generateKey();
const stored = (k: typeof reader, scopes: string[]) => ({ id: k.id, name: 'test', secretSha256: k.secretSha256, scopes, ratePerSecond: 0, expiresAt: null, revokedAt: null });
const keys = { find: async (id: string) => (id === reader.id ? stored(reader, ['analytics:read']) : id === other.id ? stored(other, ['users:read']) : undefined) };
const built = createProcessorHttpApp({
  registry: new Registry(),
  analyst,
  notReady: () => notReady,
  log: pino({ level: 'silent' }),
  auth: { config: { mode: 'required', opsEndpoints: 'open', keyCacheMs: 0, defaultRatePerSecond: 0 }, keys, store: 'telemetry_db' },
});
/** The app, every request carrying the analytics:read key unless it sets its own Authorization. */
const app = {
  request: (path: string, init: RequestInit = {}) => {
    const headers = new Headers(init.headers);
    if (!headers.has('authorization')) headers.set('authorization', `Bearer ${reader.token}`);
    return built.request(path, { ...init, headers });
  },
};
afterAll(() => analyst.close());

interface Parameter {
  name: string;
  in: string;
  required: boolean;
  schema: { type: string; minLength?: number; maxLength?: number; exclusiveMinimum?: number };
}
interface Operation {
  parameters?: Parameter[];
  requestBody?: { required: boolean; content: Record<string, { schema: { $ref?: string } }> };
  responses: Record<string, { content?: Record<string, { schema: { $ref?: string } }> }>;
}
interface Doc {
  openapi: string;
  info: { title: string };
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, { properties: Record<string, { type: string }>; required?: string[]; additionalProperties?: boolean }> };
}

async function spec(): Promise<Doc> {
  const res = await app.request('/openapi.json');
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  return (await res.json()) as Doc;
}

describe('stream processor /openapi.json', () => {
  it('describes GET /query: sql (required), max_rows, timeout_s in the query string', async () => {
    const doc = await spec();
    expect(doc.openapi).toBe('3.1.0');
    const get = doc.paths['/query']!.get!;
    const params = Object.fromEntries(get.parameters!.map((p) => [p.name, p]));
    expect(Object.keys(params).sort()).toEqual(['max_rows', 'sql', 'timeout_s']);
    expect(get.parameters!.every((p) => p.in === 'query')).toBe(true);
    expect(params.sql).toMatchObject({ required: true, schema: { type: 'string', minLength: 1, maxLength: 100_000 } });
    expect(params.max_rows).toMatchObject({ required: false, schema: { type: 'integer', exclusiveMinimum: 0 } });
    expect(params.timeout_s).toMatchObject({ required: false, schema: { type: 'number', exclusiveMinimum: 0 } });
  });

  it('describes POST /query with the same fields as a JSON body', async () => {
    const doc = await spec();
    const post = doc.paths['/query']!.post!;
    expect(post.requestBody!.required).toBe(true);
    expect(post.requestBody!.content['application/json']!.schema.$ref).toBe('#/components/schemas/QueryRequest');
    const body = doc.components.schemas.QueryRequest!;
    expect(Object.keys(body.properties).sort()).toEqual(['max_rows', 'sql', 'timeout_s']);
    expect(body.required).toEqual(['sql']);
    expect(body.additionalProperties).toBe(false);
  });

  it('lists the answers /query really gives: 200 result, 400/401/403/422/429/503/504 problem+json', async () => {
    const doc = await spec();
    for (const method of ['get', 'post']) {
      const { responses } = doc.paths['/query']![method]!;
      expect(Object.keys(responses).sort(), method).toEqual(['200', '400', '401', '403', '422', '429', '500', '503', '504']);
      expect(responses['200']!.content!['application/json']!.schema.$ref).toBe('#/components/schemas/QueryResult');
      for (const status of ['400', '401', '403', '422', '429', '503', '504']) {
        expect(responses[status]!.content!['application/problem+json']!.schema.$ref, `${method} ${status}`).toBe('#/components/schemas/QueryProblem');
      }
    }
    expect(Object.keys(doc.components.schemas.QueryResult!.properties).sort()).toEqual(['columns', 'elapsed_ms', 'rows', 'truncated']);
    expect(Object.keys(doc.components.schemas.QueryProblem!.properties).sort()).toEqual(['detail', 'errors', 'status', 'title', 'type']);
  });

  it('describes /health, /ready (200 and 503) and /metrics', async () => {
    const doc = await spec();
    expect(Object.keys(doc.paths).sort()).toEqual(['/health', '/metrics', '/query', '/ready']);
    expect(Object.keys(doc.paths['/ready']!.get!.responses).sort()).toEqual(['200', '503']);
    expect(Object.keys(doc.paths['/metrics']!.get!.responses['200']!.content!)).toEqual(['text/plain']);
  });
});

describe('stream processor routes answer as documented', () => {
  const problemOf = async (res: Response, status: number) => {
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    const body = (await res.json()) as { type: string; title: string; status: number; detail: string; errors?: { path: string }[] };
    expect(body).toMatchObject({ type: 'about:blank', status });
    expect(typeof body.detail).toBe('string');
    return body;
  };

  it('GET /query without sql, or with an unknown parameter: 400 listing the issues', async () => {
    expect((await problemOf(await app.request('/query'), 400)).errors!.map((e) => e.path)).toEqual(['sql']);
    const unknown = await problemOf(await app.request('/query?sql=SELECT+1&format=csv&max_rows=0'), 400);
    expect(unknown.title).toBe('Invalid query request');
    expect(unknown.errors!.map((e) => e.path).sort()).toEqual(['', 'max_rows']);
  });

  it('refused before ClickHouse (two statements, a limit above the maximum): 400 "Query refused"', async () => {
    expect((await problemOf(await app.request('/query?sql=SELECT+1;SELECT+2'), 400)).title).toBe('Query refused');
    expect((await problemOf(await app.request('/query?sql=SELECT+1&max_rows=100001'), 400)).title).toBe('Query refused');
  });

  it('POST /query with a body that is not JSON: 400 "Not JSON"', async () => {
    const res = await app.request('/query', { method: 'POST', body: 'sql=SELECT 1', headers: { 'content-type': 'text/plain' } });
    expect((await problemOf(res, 400)).title).toBe('Not JSON');
  });

  it('ClickHouse unreachable: 503 "ClickHouse unavailable"', async () => {
    const res = await app.request('/query', { method: 'POST', body: JSON.stringify({ sql: 'SELECT 1' }), headers: { 'content-type': 'application/json' } });
    expect((await problemOf(res, 503)).title).toBe('ClickHouse unavailable');
  });

  it('/query needs a key with analytics:read: 401 without one, 403 with a key lacking it', async () => {
    const none = await built.request('/query?sql=SELECT+1');
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="stream-processor"');
    const lacking = await built.request('/query', { method: 'POST', body: '{"sql":"SELECT 1"}', headers: { authorization: `Bearer ${other.token}` } });
    expect(lacking.status).toBe(403);
    expect(((await lacking.json()) as { detail: string }).detail).toContain('analytics:read');
    const doc = (await (await built.request('/openapi.json')).json()) as { paths: Record<string, Record<string, { security?: unknown }>> };
    expect(doc.paths['/query']!.get!.security).toEqual([{ apiKey: ['analytics:read'] }]);
    expect(doc.paths['/query']!.post!.security).toEqual([{ apiKey: ['analytics:read'] }]);
    // /health, /ready and /metrics stay open by default (API_OPS_ENDPOINTS=open).
    for (const path of ['/health', '/metrics']) expect((await built.request(path)).status).toBe(200);
  });

  it('/health, /ready and /metrics', async () => {
    expect(await (await app.request('/health')).json()).toEqual({ status: 'ok', service: 'stream-processor' });
    notReady = { circuit: 'open', started: true, kafka: false };
    const res = await app.request('/ready');
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ status: 'not ready', circuit: 'open', started: true, kafka: false });
    notReady = undefined;
    expect(await (await app.request('/ready')).json()).toEqual({ status: 'ready' });
    const metrics = await app.request('/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toMatch(/^text\/plain/);
  });
});

describe('stream processor /docs', () => {
  it('renders offline: only same-origin assets, each 200 with its content type', async () => {
    const assets = await expectOfflineDocs((p, i) => app.request(p, i));
    expect(assets).toContain('/docs/swagger-ui-bundle.js');
  });
});
