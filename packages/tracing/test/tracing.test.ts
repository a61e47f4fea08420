import { createServer, type Server, type Socket } from 'node:net';
import { SpanKind, type Tracer } from '@opentelemetry/api';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEnv, toTracingConfig, tracingEnv } from '@cdc/config';
import { SpanKindCode, startOtlpReceiver, type OtlpReceiver } from '../../../tests/support/otlp-receiver.js';
import { startTracing, traceLogFields, traceLogOptions, traceMethods, TRACING_OFF, type Tracing } from '../src/index.js';

const configFor = (env: Record<string, string>) =>
  toTracingConfig(parseEnv('test', tracingEnv, { OTEL_TRACES_EXPORTER: 'otlp', ...env }), 'tracing-unit-test');

/** A logger writing parsed lines into `lines`, with or without the trace mixin. */
function memoryLogger(tracingOn: boolean) {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: 'info', ...traceLogOptions(tracingOn) }, { write: (l: string) => void lines.push(JSON.parse(l)) });
  return { log, lines };
}

const tick = () => new Promise((r) => setTimeout(r, 5));

describe('with the SDK started', () => {
  let receiver: OtlpReceiver;
  let tracing: Tracing;
  let tracer: Tracer;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    tracing = await startTracing(configFor({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_BSP_SCHEDULE_DELAY: '20' }));
    tracer = tracing.tracer!;
  });

  afterAll(async () => {
    await tracing.shutdown();
    await receiver.close();
  });

  it('log lines inside a span carry its trace_id and span_id, across awaits and in child loggers; outside, none', async () => {
    const { log, lines } = memoryLogger(true);
    log.info('before');
    await tracer.startActiveSpan('outer', async (outer) => {
      log.info('in outer');
      await tick();
      log.child({ request_id: 'r-1' }).info('in outer, after an await, from a child logger');
      await tracer.startActiveSpan('inner', async (inner) => {
        await tick();
        log.info({ span_id: 'not overwritten by the mixin' }, 'own field');
        log.info('in inner');
        inner.end();
      });
      outer.end();
      const o = outer.spanContext();
      expect(lines.find((l) => l.msg === 'in outer')).toMatchObject({ trace_id: o.traceId, span_id: o.spanId });
      expect(lines.find((l) => l.request_id === 'r-1')).toMatchObject({ trace_id: o.traceId, span_id: o.spanId });
      const innerLine = lines.find((l) => l.msg === 'in inner')!;
      expect(innerLine.trace_id).toBe(o.traceId);
      expect(innerLine.span_id).toMatch(/^[0-9a-f]{16}$/);
      expect(innerLine.span_id).not.toBe(o.spanId);
      // A line's own fields win over the mixin's.
      expect(lines.find((l) => l.msg === 'own field')!.span_id).toBe('not overwritten by the mixin');
    });
    log.info('after');
    expect(lines.find((l) => l.msg === 'before')).not.toHaveProperty('trace_id');
    expect(lines.find((l) => l.msg === 'after')).not.toHaveProperty('trace_id');
  });

  it('the mixin returns a fresh object every time (pino merges the line into it)', () => {
    tracer.startActiveSpan('s', (span) => {
      const a = traceLogFields();
      a.extra = 'x';
      expect(traceLogFields()).not.toHaveProperty('extra');
      span.end();
    });
    const none = traceLogFields();
    none.extra = 'x';
    expect(traceLogFields()).toEqual({});
  });

  it('without the mixin (tracing off), lines carry no trace fields even inside a span', async () => {
    const { log, lines } = memoryLogger(false);
    await tracer.startActiveSpan('s', async (span) => {
      log.info('inside');
      span.end();
    });
    expect(lines[0]).not.toHaveProperty('trace_id');
    expect(lines[0]).not.toHaveProperty('span_id');
  });

  it('traceMethods: a CLIENT span per call under the active span; a rejection is recorded and passed on', async () => {
    const repo = {
      table: 'users',
      async find(this: { table: string }, id: number) {
        return `${this.table}:${id}`;
      },
      async fail(): Promise<never> {
        throw Object.assign(new Error('duplicate key'), { code: '23505' });
      },
    };
    const traced = traceMethods(repo, tracer, (method) => ({ name: `${method} users`, attributes: { 'db.operation.name': method } }));
    expect(traced.table).toBe('users');
    let parentSpanId = '';
    await tracer.startActiveSpan('request', { kind: SpanKind.SERVER }, async (span) => {
      parentSpanId = span.spanContext().spanId;
      // `this` is the original object.
      expect(await traced.find(7)).toBe('users:7');
      await expect(traced.fail()).rejects.toThrow('duplicate key');
      span.end();
    });
    const spans = await receiver.waitFor('both repository spans', (all) => ['find users', 'fail users'].every((n) => all.some((s) => s.name === n)));
    const find = spans.find((s) => s.name === 'find users')!;
    const fail = spans.find((s) => s.name === 'fail users')!;
    expect(find).toMatchObject({ parentSpanId, kind: SpanKindCode.client, statusCode: 0, attributes: { 'db.operation.name': 'find' } });
    expect(fail).toMatchObject({ parentSpanId, statusCode: 2, attributes: { 'error.type': '23505' } });
    expect(fail.events).toEqual(['exception']);
  });
});

describe('startTracing', () => {
  it('off: no tracer, and shutting down is a no-op', async () => {
    const off = await startTracing(undefined);
    expect(off).toBe(TRACING_OFF);
    expect(off.tracer).toBeUndefined();
    await off.shutdown();
  });

  it('shutdown gives up on a collector that never answers, within its bound', async () => {
    const sockets = new Set<Socket>();
    const blackHole: Server = createServer((s) => void sockets.add(s));
    await new Promise<void>((r) => blackHole.listen(0, '127.0.0.1', r));
    const { port } = blackHole.address() as { port: number };
    const warnings: string[] = [];
    const tracing = await startTracing(
      configFor({ OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`, OTEL_EXPORTER_OTLP_TIMEOUT: '60000', OTEL_BSP_SCHEDULE_DELAY: '10' }),
      { log: { warn: (_obj, msg) => void warnings.push(msg) } },
    );
    try {
      tracing.tracer!.startSpan('stuck').end();
      // The export is now in flight, waiting on the silent collector.
      for (let i = 0; i < 100 && sockets.size === 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(sockets.size).toBeGreaterThan(0);
      const started = performance.now();
      await tracing.shutdown(300);
      expect(performance.now() - started).toBeLessThan(1500);
      expect(warnings).toContain('gave up flushing traces');
    } finally {
      for (const s of sockets) s.destroy();
      blackHole.close();
    }
  });

  it('reports a failing collector once, outside any trace (not with the trace of the span that triggered the export)', async () => {
    // A port nothing listens on: every export is refused.
    const closed: Server = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const { port } = closed.address() as { port: number };
    await new Promise<void>((r) => closed.close(() => r()));
    const { log, lines } = memoryLogger(true);
    const tracing = await startTracing(
      configFor({ OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`, OTEL_EXPORTER_OTLP_TIMEOUT: '300', OTEL_BSP_SCHEDULE_DELAY: '10' }),
      { log },
    );
    try {
      for (let i = 0; i < 3; i++) {
        tracing.tracer!.startActiveSpan(`request ${i}`, (span) => span.end());
        await new Promise((r) => setTimeout(r, 400));
      }
      const failed = lines.filter((l) => l.msg === 'trace export failed (spans are dropped, requests are not affected)');
      expect(failed).toHaveLength(1);
      expect(failed[0]).toMatchObject({ level: 40, url: `http://127.0.0.1:${port}/v1/traces` });
      expect(failed[0]).not.toHaveProperty('trace_id');
    } finally {
      await tracing.shutdown(500);
    }
  });
});
