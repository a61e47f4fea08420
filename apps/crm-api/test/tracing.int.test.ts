import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../scripts/lib/net.js';
import { startApp, type RunningApp } from '../../../tests/support/apps.js';
import { SpanKindCode, startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../../../tests/support/otlp-receiver.js';
import { apiFetch, json, uniqueEmail } from './support.js';

/**
 * OpenTelemetry on the real crm-api process, exporting OTLP/HTTP JSON to a stand-in
 * collector on 127.0.0.1: the Prisma calls as children of the request's span, and
 * how failures are marked (a database error on its span; the request's span an
 * error only for a 5xx).
 */
let receiver: OtlpReceiver;
let api: RunningApp;
const lines: Record<string, unknown>[] = [];
const tracingEnv = (r: OtlpReceiver) => ({
  LOG_LEVEL: 'info',
  OTEL_TRACES_EXPORTER: 'otlp',
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${r.url}/v1/traces`,
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
  OTEL_BSP_SCHEDULE_DELAY: '100',
});

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  api = await startApp('crm-api', tracingEnv(receiver), { stdout: (l) => lines.push(JSON.parse(l) as Record<string, unknown>) });
});

afterAll(async () => {
  await api?.stop();
  await receiver?.close();
});

function caller() {
  const traceId = randomBytes(16).toString('hex');
  const spanId = randomBytes(8).toString('hex');
  return { traceId, spanId, traceparent: `00-${traceId}-${spanId}-01` };
}

const serverSpan = (spans: ReceivedSpan[], traceId: string) => spans.find((s) => s.traceId === traceId && s.kind === SpanKindCode.server);

/** The server span of the trace and the spans under it, once both have arrived. */
async function traceOf(traceId: string, child: string): Promise<{ server: ReceivedSpan; children: ReceivedSpan[] }> {
  const spans = await receiver.waitFor(`the spans of trace ${traceId}`, (all) => {
    const server = serverSpan(all, traceId);
    return !!server && all.some((s) => s.parentSpanId === server.spanId && s.name === child);
  });
  const server = serverSpan(spans, traceId)!;
  return { server, children: spans.filter((s) => s.parentSpanId === server.spanId) };
}

describe('crm-api tracing', () => {
  it('puts the Prisma call under the request’s span, in the caller’s trace, and the trace id in the response and logs', async () => {
    const ctx = caller();
    const email = uniqueEmail('trace');
    const res = await apiFetch(`${api.url}/users`, json('POST', { name: 'Traced user', email }, { traceparent: ctx.traceparent }));
    expect(res.status, await res.clone().text()).toBe(201);
    const user = (await res.json()) as { id: number };
    expect(res.headers.get('x-trace-id')).toBe(ctx.traceId);
    const requestId = res.headers.get('x-request-id');

    const { server, children } = await traceOf(ctx.traceId, 'create users');
    expect(server).toMatchObject({
      name: 'POST /users',
      parentSpanId: ctx.spanId,
      statusCode: 0,
      attributes: { 'http.route': '/users', 'http.response.status_code': 201, request_id: requestId },
      resource: { 'service.name': 'crm-api' },
    });
    expect(children.find((s) => s.name === 'create users')).toMatchObject({
      kind: SpanKindCode.client,
      traceId: ctx.traceId,
      statusCode: 0,
      attributes: { 'db.system.name': 'postgresql', 'db.namespace': 'crm_db', 'db.collection.name': 'users' },
    });
    expect(receiver.contentTypes).toContain('application/json');

    const logged = lines.filter((l) => l.request_id === requestId);
    expect(logged.map((l) => l.msg)).toContain('user created');
    for (const line of logged) expect(line).toMatchObject({ trace_id: ctx.traceId, span_id: server.spanId });

    // Clean-up through the API, traced as well (a route with a parameter).
    const del = caller();
    expect((await apiFetch(`${api.url}/users/${user.id}`, { method: 'DELETE', headers: { traceparent: del.traceparent } })).status).toBe(204);
    const deleted = await traceOf(del.traceId, 'delete users');
    expect(deleted.server.name).toBe('DELETE /users/:id');
  });

  it('marks the failed database call, but not the request, when a client error (409) results', async () => {
    const email = uniqueEmail('trace-dup');
    const first = await apiFetch(`${api.url}/users`, json('POST', { name: 'First', email }));
    expect(first.status).toBe(201);
    const { id } = (await first.json()) as { id: number };
    try {
      const ctx = caller();
      const dup = await apiFetch(`${api.url}/users`, json('POST', { name: 'Second', email }, { traceparent: ctx.traceparent }));
      expect(dup.status).toBe(409);
      const { server, children } = await traceOf(ctx.traceId, 'create users');
      expect(server.statusCode).toBe(0);
      expect(server.attributes['http.response.status_code']).toBe(409);
      const create = children.find((s) => s.name === 'create users')!;
      expect(create.statusCode).toBe(2);
      expect(create.events).toContain('exception');
      expect(create.attributes['error.type']).toBe('P2002');
    } finally {
      await apiFetch(`${api.url}/users/${id}`, { method: 'DELETE' });
    }
  });

  it('marks the request an error when the database is down (503)', async () => {
    // Nothing listens on this port: every connection attempt is refused.
    const deadDb = `postgresql://postgres:postgres@127.0.0.1:${await freePort()}/crm_db`;
    const down = await startApp('crm-api', { ...tracingEnv(receiver), CRM_DATABASE_URL: deadDb });
    try {
      const ctx = caller();
      const res = await apiFetch(`${down.url}/users/1`, { headers: { traceparent: ctx.traceparent } });
      expect(res.status).toBe(503);
      expect(res.headers.get('x-trace-id')).toBe(ctx.traceId);
      const { server, children } = await traceOf(ctx.traceId, 'find api_keys');
      expect(server).toMatchObject({ name: 'GET /users/:id', statusCode: 2, attributes: { 'http.response.status_code': 503 } });
      expect(server.attributes['error.type']).toBeTruthy();
      expect(server.events).toContain('exception');
      // The first call to fail is the key check's read of auth.api_keys, before the route runs.
      expect(children.find((s) => s.name === 'find api_keys')!.statusCode).toBe(2);
    } finally {
      await down.stop();
    }
  });
});
