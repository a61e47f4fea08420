import { serve } from '@hono/node-server';
import { createClient } from '@clickhouse/client';
import { Hono } from 'hono';
import { pino } from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { loadDotEnv } from '@cdc/config';
import { startCdcMonitor } from './cdc-monitor.js';
import { loadConfig } from './config.js';

// So far: liveness, metrics and the ClickHouse CDC monitor. The kafkajs stream
// processors arrive with their issue.
loadDotEnv();
const config = loadConfig();
const log = pino({ name: 'stream-processor', level: config.logLevel });
const registry = new Registry();
registry.setDefaultLabels({ service: 'stream-processor' });
collectDefaultMetrics({ register: registry });

const ch = createClient({ ...config.clickhouse, request_timeout: 10_000 });
const monitor = startCdcMonitor({ ch, registry, log, pollMs: config.freshnessPollMs, purgeMs: config.usersJoinPurgeMs });

const app = new Hono();
app.get('/health', (c) => c.json({ status: 'ok', service: 'stream-processor' }));
app.get('/metrics', async (c) => c.text(await registry.metrics(), 200, { 'content-type': registry.contentType }));

const server = serve({ fetch: app.fetch, hostname: config.host, port: config.port }, (info) =>
  log.info({ address: info.address, port: info.port }, 'listening'),
);

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    log.info({ signal }, 'shutting down');
    monitor.stop();
    server.close(() => void ch.close().finally(() => process.exit(0)));
  });
}
