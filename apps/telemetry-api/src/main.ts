import { pino } from 'pino';
import { loadDotEnv } from '@cdc/config';
import { createTelemetryDb } from '@cdc/db/telemetry';
import { exitOnSignals, startServer } from '@cdc/http';
import { createApp, SERVICE } from './app.js';
import { loadConfig } from './config.js';

loadDotEnv();
const config = loadConfig();
const log = pino({ name: SERVICE, level: config.logLevel });

const db = createTelemetryDb(config.databaseUrl, { max: config.poolMax });
const { app } = createApp({ db, log });

// The pool connects lazily: the service starts (and /health answers) while the
// database is still down; /ready and the data routes say 503 until it is back.
const server = await startServer(app, {
  host: config.host,
  port: config.port,
  log,
  onClose: () => db.close(),
});
exitOnSignals(server, log);
