import { serve } from '@hono/node-server';
import { createClient } from '@clickhouse/client';
import { pino } from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { loadDotEnv } from '@cdc/config';
import { createKafka, createSchemaRegistry } from '@cdc/kafka';
import { startTracing, traceLogOptions } from '@cdc/tracing';
import { startCdcMonitor } from './cdc-monitor.js';
import { startLagMonitor } from './consumer-lag.js';
import { createAnalyticsSink } from './clickhouse-sink.js';
import { loadConfig } from './config.js';
import { createProcessorHttpApp } from './http-app.js';
import { createPool } from '@cdc/db';
import { createApiKeyStore } from '@cdc/db/api-keys';
import { createProcessorMetrics } from './metrics.js';
import { startProcessor, type Processor } from './processor.js';
import { createGuard } from './resilience.js';

loadDotEnv();
const config = loadConfig();
// With tracing on, every line written inside a span (a batch, a write) carries trace_id and span_id.
const log = pino({ name: 'stream-processor', level: config.logLevel, ...traceLogOptions(config.tracing !== undefined) });
const tracing = await startTracing(config.tracing, { log });
const registry = new Registry();
registry.setDefaultLabels({ service: 'stream-processor' });
collectDefaultMetrics({ register: registry });

const ch = createClient({ ...config.clickhouse, request_timeout: 30_000 });
// Ad-hoc queries run as the analyst: read-only and bounded by ClickHouse itself, and
// never ahead of the pipeline's own writes.
const chAnalyst = createClient({ ...config.clickhouseAnalyst, request_timeout: 30_000 });
const monitor = startCdcMonitor({ ch, registry, log, pollMs: config.freshnessPollMs, purgeMs: config.usersJoinPurgeMs });
const metrics = createProcessorMetrics(registry);
const guard = createGuard({ retries: config.retries, minTimeoutMs: 200, maxTimeoutMs: 5_000, resetTimeoutMs: config.breakerResetMs, log });
const kafka = createKafka(
  {
    ...config.kafka,
    logLevel: 'warn',
    // kafkajs logs through the processor's pino, so its lines carry the service name.
    logger: log.child({ component: 'kafkajs' }),
    // kafkajs's own defaults, not an inspection command's: the processor rides out a
    // broker restart by retrying for longer.
    tuning: { connectionTimeout: 1_000, requestTimeout: 30_000, retry: { retries: 5 } },
  },
  'stream-processor',
);

let processor: Processor | undefined;
const lag = startLagMonitor({
  kafka,
  groupId: `${config.groupPrefix}-enrich`,
  topic: config.eventsTopic,
  gauge: metrics.lag,
  pollMs: config.lagPollMs,
  log,
});

// /health, /ready, /metrics, /query, and /openapi.json + /docs describing them.
// API keys for /query, read from telemetry_db (where `npm run keys` writes them) on a
// pool of their own: a handful of indexed reads per key and cache interval.
const keysPool = createPool(config.keysDatabaseUrl, { max: 2 }).on('error', (err) => log.warn({ err: err.message }, 'idle key-store connection lost'));
const app = createProcessorHttpApp({
  registry,
  analyst: chAnalyst,
  log,
  auth: { config: config.auth, keys: createApiKeyStore(keysPool), store: 'telemetry_db' },
  notReady: () =>
    processor?.ready() && lag.kafkaReachable()
      ? undefined
      : { circuit: guard.state, started: processor !== undefined, kafka: lag.kafkaReachable() },
});

const server = serve({ fetch: app.fetch, hostname: config.host, port: config.port }, (info) =>
  log.info({ address: info.address, port: info.port }, 'listening'),
);

startProcessor({
  kafka,
  sink: createAnalyticsSink(ch),
  guard,
  metrics,
  log,
  tracer: tracing.tracer,
  registry: config.schemaRegistryUrl ? createSchemaRegistry(config.schemaRegistryUrl, { clientId: 'stream-processor' }) : undefined,
  config: {
    usersTopic: config.usersTopic,
    eventsTopic: config.eventsTopic,
    groupPrefix: config.groupPrefix,
    chunkSize: config.chunkSize,
    fetchBytes: config.fetchBytes,
    fetchMinBytes: config.fetchMinBytes,
    fetchWaitMs: config.fetchWaitMs,
    partitionsConcurrently: config.partitionsConcurrently,
    groupRows: config.groupRows,
    outputTopic: config.outputTopic,
    consoleUrl: config.consoleUrl,
  },
}).then(
  (p) => (processor = p),
  (err: Error) => {
    // Without its consumers the service is useless; exit so a supervisor restarts it.
    log.fatal({ err: err.message, stack: err.stack }, 'stream processor failed to start');
    process.exit(1);
  },
);

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    log.info({ signal }, 'shutting down');
    monitor.stop();
    void lag.stop();
    void (processor?.stop() ?? Promise.resolve())
      .catch((err: Error) => log.error({ err: err.message }, 'stopping the consumers failed'))
      // Traces last: the spans of the final batches are queued by then (the flush is bounded).
      .finally(() => server.close(() => void Promise.all([ch.close(), chAnalyst.close(), keysPool.end()]).finally(() => void tracing.shutdown().finally(() => process.exit(0)))));
  });
}
