import pino from 'pino';
import { loadDotEnv } from '@cdc/config';
import { exitOnSignals, startServer } from '@cdc/http/server';
import { createConsoleApp } from './app.js';
import { loadConfig } from './config.js';
import { createDeps } from './deps.js';

loadDotEnv();
const config = loadConfig();
const log = pino({ name: 'console', level: config.logLevel });
const deps = createDeps(config, log);
const { app, lag } = createConsoleApp(deps);
lag.start();
const server = await startServer(app, {
  host: config.host,
  port: config.port,
  log,
  // SSE streams never finish on their own: cut them after a short grace.
  graceMs: 2_000,
  onClose: async () => {
    lag.stop();
    await deps.close();
  },
});
log.info({ writeActions: config.token !== undefined }, `console at ${config.publicUrl}`);
exitOnSignals(server, log);
