import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel } from 'kafkajs';
import { createKafka, kafkaAccess } from '@cdc/kafka';
import { pino, type Logger } from 'pino';
import { Registry } from 'prom-client';
import { startTracing, traceLogOptions, type Tracing } from '@cdc/tracing';
import { env } from '../../../tests/support/cdc.js';
import { SpanKindCode, startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../../../tests/support/otlp-receiver.js';
import type { AnalyticsSink } from '../src/clickhouse-sink.js';
import { loadConfig } from '../src/config.js';
import { createProcessorMetrics } from '../src/metrics.js';
import { startProcessor, type Processor } from '../src/processor.js';
import { createGuard } from '../src/resilience.js';
import { event } from './fixtures.js';
import { SECRETS_ENV } from '../../../tests/support/secrets-env.js';

/**
 * The processor's spans, on real Kafka: a private processor (its own topics and
 * consumer groups, so the stack's processor and other tests are untouched) with
 * tracing configured as main.ts does (loadConfig → startTracing), exporting
 * OTLP/HTTP JSON to a stand-in collector. ClickHouse is replaced by a sink that
 * records what it is asked to write: the spans around the writes are under test,
 * not the writes.
 */
const RUN = `tracing-test-${randomBytes(4).toString('hex')}`;
const USERS = `${RUN}.users`;
const EVENTS = `${RUN}.events`;
const kafka = createKafka({ ...kafkaAccess(env), logLevel: 'silent' }, RUN);
const admin = kafka.admin();
const lines: Record<string, unknown>[] = [];
const written: number[] = [];
let receiver: OtlpReceiver;
let tracing: Tracing;
let processor: Processor | undefined;
let untraced: Processor | undefined;

const recordingSink = (into: number[]): AnalyticsSink => ({
  insertEnriched: async (enriched) => void into.push(enriched.rows.length),
  recompute: async () => {},
  reenrich: async () => [],
  unknownUsers: async () => [],
  ping: async () => {},
});

/** JSON log lines of a processor, collected in `into`, with trace ids when `config` traces. */
function captureLog(config: ReturnType<typeof loadConfig>, into: Record<string, unknown>[]) {
  return pino({ level: 'info', ...traceLogOptions(config.tracing !== undefined) }, { write: (l: string) => void into.push(JSON.parse(l)) });
}

/** A processor on this file's private topics, recording what it writes instead of ClickHouse. */
function startPrivateProcessor(groupPrefix: string, log: Logger, tracing: Tracing, written: number[]) {
  return startProcessor({
    kafka,
    sink: recordingSink(written),
    guard: createGuard({ retries: 0, minTimeoutMs: 10, maxTimeoutMs: 10, resetTimeoutMs: 1000, log }),
    metrics: createProcessorMetrics(new Registry()),
    log,
    tracer: tracing.tracer,
    config: { usersTopic: USERS, eventsTopic: EVENTS, groupPrefix, chunkSize: 1000, fetchBytes: 1024 * 1024 },
  });
}

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  await admin.connect();
  await admin.createTopics({
    waitForLeaders: true,
    topics: [USERS, EVENTS, `${EVENTS}.dlq`].map((topic) => ({ topic, numPartitions: 1, replicationFactor: 1 })),
  });
  const config = loadConfig({
    ...SECRETS_ENV,
    OTEL_TRACES_EXPORTER: 'otlp',
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_BSP_SCHEDULE_DELAY: '100',
  });
  const log = captureLog(config, lines);
  tracing = await startTracing(config.tracing, { log });
  processor = await startPrivateProcessor(RUN, log, tracing, written);
}, 120_000);

afterAll(async () => {
  await untraced?.stop();
  await processor?.stop();
  await tracing?.shutdown();
  await receiver?.close();
  await admin.deleteTopics({ topics: [USERS, EVENTS, `${EVENTS}.dlq`] }).catch(() => {});
  await admin.deleteGroups([`${RUN}-users`, `${RUN}-enrich`, `${RUN}-off-users`, `${RUN}-off-enrich`]).catch(() => {});
  await admin.disconnect();
});

const change = (lsn: number) =>
  JSON.stringify({ op: 'c', before: null, after: event({ id: lsn, event_uuid: randomUUID() }), source: { lsn, ts_ms: Date.now() } });

describe('stream-processor tracing', () => {
  it('a span per consumed batch, with the ClickHouse writes and the DLQ send under it, and log lines that name it', async () => {
    const producer = kafka.producer();
    await producer.connect();
    // One produce request: the three records land in one batch of one fetch.
    await producer.send({ topic: EVENTS, messages: [{ value: change(11) }, { value: 'not json at all' }, { value: change(12) }] });
    await producer.disconnect();

    const batchOf = (all: ReceivedSpan[]) => all.find((s) => s.kind === SpanKindCode.consumer && s.name === `process ${EVENTS}`);
    const spans = await receiver.waitFor('the batch span and its children', (all) => {
      const batch = batchOf(all);
      return !!batch && ['insertEnriched analytics', 'recompute analytics', `send ${EVENTS}.dlq`].every((n) => all.some((s) => s.parentSpanId === batch.spanId && s.name === n));
    });
    const batch = batchOf(spans)!;
    expect(batch).toMatchObject({
      parentSpanId: '',
      attributes: {
        'messaging.system': 'kafka',
        'messaging.operation.type': 'process',
        'messaging.destination.name': EVENTS,
        'messaging.destination.partition.id': '0',
        'messaging.consumer.group.name': `${RUN}-enrich`,
        'messaging.batch.message_count': 3,
        'messaging.kafka.batch.first_offset': '0',
        'messaging.kafka.batch.last_offset': '2',
      },
      resource: { 'service.name': 'stream-processor' },
    });
    const children = spans.filter((s) => s.parentSpanId === batch.spanId);
    expect(children.every((s) => s.traceId === batch.traceId)).toBe(true);
    expect(children.find((s) => s.name === 'insertEnriched analytics')).toMatchObject({
      kind: SpanKindCode.client,
      attributes: { 'db.system.name': 'clickhouse', 'db.operation.name': 'insertEnriched', 'cdc.rows': 2 },
    });
    expect(children.find((s) => s.name === `send ${EVENTS}.dlq`)).toMatchObject({
      kind: SpanKindCode.producer,
      attributes: { 'messaging.destination.name': `${EVENTS}.dlq`, 'messaging.batch.message_count': 1 },
    });
    expect(written).toEqual([2]);

    // The dead-letter warning was logged inside the batch: it names the batch's trace.
    const warning = lines.find((l) => l.msg === 'poison message → DLQ' && l.topic === EVENTS);
    expect(warning).toMatchObject({ trace_id: batch.traceId, span_id: batch.spanId, offset: '1' });
    // Lines outside any batch do not.
    expect(lines.find((l) => l.msg === 'enrichment running')).not.toHaveProperty('trace_id');
  });

  it('with tracing off (the default config), the same processor creates no spans and logs no trace ids', async () => {
    const config = loadConfig(SECRETS_ENV);
    expect(config.tracing).toBeUndefined();
    const off = await startTracing(config.tracing);
    const offLines: Record<string, unknown>[] = [];
    const log = captureLog(config, offLines);
    const offWritten: number[] = [];
    // Its own groups: it reads the whole (private) topic again, poison message included.
    untraced = await startPrivateProcessor(`${RUN}-off`, log, off, offWritten);
    const deadline = Date.now() + 60_000;
    while (!offLines.some((l) => l.msg === 'poison message → DLQ') || offWritten.length === 0) {
      if (Date.now() > deadline) throw new Error('the untraced processor did not process the topic within 60 s');
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(offWritten).toEqual([2]);
    for (const line of offLines) expect(line).not.toHaveProperty('trace_id');
    // Give a span, had there been one, time to arrive (the traced processor exports every 100 ms).
    await new Promise((r) => setTimeout(r, 500));
    expect(receiver.spans.some((s) => s.attributes['messaging.consumer.group.name'] === `${RUN}-off-enrich`)).toBe(false);
  });
});
