import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { pino } from 'pino';
import { loadDotEnv } from '@cdc/config';
import { loadConfig } from './config.js';

// Skeleton: liveness only, so the stack's start order and health checks are real.
// The service itself arrives with its issue.
loadDotEnv();
const config = loadConfig();
const log = pino({ name: 'crm-api', level: config.logLevel });

const app = new Hono();
app.get('/health', (c) => c.json({ status: 'ok', service: 'crm-api' }));

const server = serve({ fetch: app.fetch, hostname: config.host, port: config.port }, (info) =>
  log.info({ address: info.address, port: info.port }, 'listening'),
);

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    log.info({ signal }, 'shutting down');
    server.close(() => process.exit(0));
  });
}
