import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp } from '../../../tests/support/apps.js';
import { SpanKindCode, startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../../../tests/support/otlp-receiver.js';
import { admin, deleteTestRows, makeEvent, postJson, sleep, apiFetch } from './support.js';

/**
 * OpenTelemetry end to end on the real app process (main.ts: config → SDK → pino
 * mixin → shutdown flush), exporting to a stand-in collector on 127.0.0.1 in the
 * default encoding (OTLP/HTTP protobuf).
 */
let receiver: OtlpReceiver;
type LogLine = Record<string, unknown>;

beforeAll(async () => {
  receiver = await startOtlpReceiver();
});

afterAll(async () => {
  await receiver?.close();
  await deleteTestRows();
  await admin.end();
});

/** A caller's W3C trace context: a fresh trace id and the caller's span id. */
function callerContext() {
  const traceId = randomBytes(16).toString('hex');
  const spanId = randomBytes(8).toString('hex');
  return { traceId, spanId, traceparent: `00-${traceId}-${spanId}-01` };
}

async function until<T>(what: string, probe: () => T | undefined | false, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

describe('tracing on (OTEL_TRACES_EXPORTER=otlp)', () => {
  it('exports the request and its database work under the caller’s trace; the response and the log lines name it', async () => {
    const lines: LogLine[] = [];
    const api = await startApp(
      'telemetry-api',
      {
        LOG_LEVEL: 'info',
        OTEL_TRACES_EXPORTER: 'otlp',
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_SERVICE_NAME: 'telemetry-api-under-test',
        OTEL_BSP_SCHEDULE_DELAY: '100',
      },
      { stdout: (l) => lines.push(JSON.parse(l) as LogLine) },
    );
    const caller = callerContext();
    const requestId = `trace-test-${randomUUID()}`;
    const event = makeEvent();
    try {
      const res = await postJson(`${api.url}/telemetry-events/batch`, { events: [event] }, { traceparent: caller.traceparent, 'x-request-id': requestId });
      expect(res.status, await res.clone().text()).toBe(200);
      expect(((await res.json()) as { summary: unknown }).summary).toMatchObject({ inserted: 1 });
      // The response names the trace the caller started.
      expect(res.headers.get('x-trace-id')).toBe(caller.traceId);

      const serverOf = (all: ReceivedSpan[]) => all.find((s) => s.traceId === caller.traceId && s.kind === SpanKindCode.server);
      const spans = await receiver.waitFor('the server span and its insert span', (all) => {
        const server = serverOf(all);
        return !!server && all.some((s) => s.parentSpanId === server.spanId && s.name === 'insertMany telemetry_events');
      });
      const server = serverOf(spans)!;
      expect(server).toMatchObject({
        name: 'POST /telemetry-events/batch',
        // A child of the caller's span: the trace continues from upstream.
        parentSpanId: caller.spanId,
        statusCode: 0,
        attributes: {
          'http.request.method': 'POST',
          'http.route': '/telemetry-events/batch',
          'url.path': '/telemetry-events/batch',
          'http.response.status_code': 200,
          request_id: requestId,
        },
        resource: { 'service.name': 'telemetry-api-under-test', 'service.version': '1.0.0' },
      });
      expect(receiver.contentTypes).toContain('application/x-protobuf');

      const children = spans.filter((s) => s.parentSpanId === server.spanId);
      expect(children.every((s) => s.traceId === caller.traceId && s.kind === SpanKindCode.client)).toBe(true);
      expect(children.find((s) => s.name === 'insertMany telemetry_events')).toMatchObject({
        statusCode: 0,
        attributes: {
          'db.system.name': 'postgresql',
          'db.namespace': 'telemetry_db',
          'db.collection.name': 'telemetry_events',
          'db.operation.name': 'insertMany',
        },
      });

      // The row stored by the request carries the request id the span carries.
      const { rows } = await admin.query<{ request_id: string }>('SELECT request_id FROM telemetry_events WHERE event_uuid = $1', [event.event_uuid]);
      expect(rows[0]?.request_id).toBe(server.attributes.request_id);

      // Every line the request logged carries the trace and the server span.
      const mine = await until('the request’s log lines', () => {
        const found = lines.filter((l) => l.request_id === requestId);
        return found.some((l) => l.msg === 'request') && found;
      });
      expect(mine.map((l) => l.msg)).toEqual(['batch ingested', 'request']);
      for (const line of mine) expect(line).toMatchObject({ trace_id: caller.traceId, span_id: server.spanId });
      // Lines outside any request (start-up) have no trace fields.
      expect(lines.find((l) => l.msg === 'listening')).not.toHaveProperty('trace_id');
    } finally {
      await api.stop();
    }
  });

  it('starts a new trace without a caller, and leaves /health untraced', async () => {
    const api = await startApp('telemetry-api', {
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_BSP_SCHEDULE_DELAY: '100',
    });
    try {
      const health = await apiFetch(`${api.url}/health`);
      expect(health.headers.get('x-trace-id')).toBeNull();
      const res = await apiFetch(`${api.url}/telemetry-events/${randomUUID()}`);
      expect(res.status).toBe(404);
      const traceId = res.headers.get('x-trace-id');
      expect(traceId).toMatch(/^[0-9a-f]{32}$/);
      const spans = await receiver.waitFor('the GET span', (all) => all.some((s) => s.traceId === traceId && s.kind === SpanKindCode.server));
      const server = spans.find((s) => s.traceId === traceId && s.kind === SpanKindCode.server)!;
      // A root span named by the route template, not the path; a 404 is not the server's error.
      expect(server).toMatchObject({ name: 'GET /telemetry-events/:event_uuid', parentSpanId: '', statusCode: 0 });
      expect(server.attributes['http.response.status_code']).toBe(404);
      expect(spans.some((s) => s.attributes['url.path'] === '/health')).toBe(false);
    } finally {
      await api.stop();
    }
  });

  it('serves requests while the collector hangs, and still exits promptly', async () => {
    // A collector that accepts connections and never answers: the worst case.
    const sockets = new Set<Socket>();
    const blackHole: Server = createServer((s) => {
      sockets.add(s);
      s.on('error', () => {});
    });
    await new Promise<void>((r) => blackHole.listen(0, '127.0.0.1', r));
    const port = (blackHole.address() as { port: number }).port;
    const api = await startApp('telemetry-api', {
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
      // Long enough that an unbounded flush would visibly hang the shutdown.
      OTEL_EXPORTER_OTLP_TIMEOUT: '60000',
      OTEL_BSP_SCHEDULE_DELAY: '50',
    });
    try {
      for (let i = 0; i < 20; i++) {
        const started = performance.now();
        const res = await postJson(`${api.url}/telemetry-events`, makeEvent());
        expect(res.status).toBe(201);
        expect(performance.now() - started).toBeLessThan(2000);
      }
      expect(sockets.size).toBeGreaterThan(0);
      const stopping = performance.now();
      await api.stop();
      // Server drain (idle), pool close, then at most the 5 s flush bound.
      expect(performance.now() - stopping).toBeLessThan(9000);
    } finally {
      await api.stop();
      for (const s of sockets) s.destroy();
      blackHole.close();
    }
  }, 60_000);
});

describe('tracing off (the default)', () => {
  it('exports nothing and adds no trace id anywhere, even with an endpoint configured', async () => {
    const lines: LogLine[] = [];
    const exportsBefore = receiver.contentTypes.length;
    const api = await startApp(
      'telemetry-api',
      {
        LOG_LEVEL: 'info',
        // Empty counts as unset (the value a compose file passes for "off").
        OTEL_TRACES_EXPORTER: '',
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_BSP_SCHEDULE_DELAY: '100',
      },
      { stdout: (l) => lines.push(JSON.parse(l) as LogLine) },
    );
    const caller = callerContext();
    const requestId = `untraced-${randomUUID()}`;
    try {
      const res = await postJson(`${api.url}/telemetry-events/batch`, { events: [makeEvent()] }, { traceparent: caller.traceparent, 'x-request-id': requestId });
      expect(res.status).toBe(200);
      expect(res.headers.get('x-trace-id')).toBeNull();
    } finally {
      // Shutting down would flush anything queued.
      await api.stop();
    }
    const mine = await until('the request’s log lines', () => {
      const found = lines.filter((l) => l.request_id === requestId);
      return found.some((l) => l.msg === 'request') && found;
    });
    expect(mine.length).toBe(2);
    for (const line of lines) {
      expect(line).not.toHaveProperty('trace_id');
      expect(line).not.toHaveProperty('span_id');
    }
    await sleep(300);
    expect(receiver.contentTypes.length).toBe(exportsBefore);
    expect(receiver.spans.some((s) => s.traceId === caller.traceId)).toBe(false);
  });
});
