import { pino } from 'pino';
import { loadDotEnv } from '@cdc/config';
import { createCrmDb } from '@cdc/db/crm';
import { exitOnSignals, startServer } from '@cdc/http';
import { createApp, SERVICE } from './app.js';
import { loadConfig } from './config.js';

loadDotEnv();
const config = loadConfig();
const log = pino({ name: SERVICE, level: config.logLevel });
const db = createCrmDb(config.databaseUrl, { max: config.dbPoolMax });
const { app } = createApp({ db, log, config });

// Started even when the database is down: /health stays up, /ready and the data
// routes answer 503 until it is back.
const server = await startServer(app, {
  host: config.host,
  port: config.port,
  log,
  graceMs: config.shutdownGraceMs,
  onClose: () => db.close(),
});
exitOnSignals(server, log);
