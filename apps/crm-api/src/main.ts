import { pino } from 'pino';
import { loadDotEnv } from '@cdc/config';
import { createClickHouse } from '@cdc/clickhouse';
import { createCrmDb } from '@cdc/db/crm';
import { eraseUser } from '@cdc/erasure';
import { exitOnSignals, startServer } from '@cdc/http';
import { createKafka } from '@cdc/kafka';
import { startTracing, traceLogOptions } from '@cdc/tracing';
import { createApp, SERVICE, VERSION } from './app.js';
import { loadConfig } from './config.js';

loadDotEnv();
const config = loadConfig();
// With tracing on, every line written inside a span carries trace_id and span_id.
const log = pino({ name: SERVICE, level: config.logLevel, ...traceLogOptions(config.tracing !== undefined) });
const tracing = await startTracing(config.tracing, { serviceVersion: VERSION, log });
const db = createCrmDb(config.databaseUrl, { max: config.dbPoolMax });
// Erasure only: mutations that wait until done (mutations_sync), hence the long timeout.
const ch = createClickHouse(config.clickhouse, 'pipeline', { requestTimeoutMs: 300_000, application: 'crm-api-erasure' });
const kafka = { client: createKafka({ ...config.kafka, logger: log.child({ component: 'kafkajs' }), logLevel: 'warn' }, 'crm-api-erasure'), access: config.kafka };
const erase = (id: number, by: Parameters<typeof eraseUser>[2]) =>
  eraseUser({ crm: db.pool, ch, kafka }, id, by, { cdcTimeoutMs: config.erasureCdcTimeoutMs });
const { app } = createApp({ db, log, config, tracer: tracing.tracer, erase });

// Started even when the database is down: /health stays up, /ready and the data
// routes answer 503 until it is back.
const server = await startServer(app, {
  host: config.host,
  port: config.port,
  timeouts: config.timeouts,
  log,
  graceMs: config.shutdownGraceMs,
  // After the last request: its spans are queued by then, and the flush is bounded
  // (a down collector cannot hold up the exit).
  onClose: async () => {
    try {
      await db.close();
      await ch.close();
    } finally {
      await tracing.shutdown();
    }
  },
});
exitOnSignals(server, log);
