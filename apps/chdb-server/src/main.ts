import { ConfigError, loadDotEnv } from '@cdc/config';
import { pino } from 'pino';
import { loadConfig } from './config.js';
import { startServer } from './server.js';

// Long enough for a large INSERT to finish; short enough that a wedged engine
// does not hold up a stack restart forever.
const SHUTDOWN_GRACE_MS = 30_000;
const MIN_THREADPOOL = 16;

async function main(): Promise<void> {
  loadDotEnv();
  let config;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`${e.message}\n`);
      process.exit(1);
    }
    throw e;
  }

  const log = pino({ level: config.logLevel, base: { service: 'chdb-server' } });
  // Every chDB call that waits (a query, a block of a streamed result, an insert)
  // holds one of libuv's worker threads while the engine works on it. libuv has 4
  // unless UV_THREADPOOL_SIZE says otherwise, and reads it once, before any of our
  // code runs (tsx's loader already uses the pool): with 4, four long analyst
  // queries would hold every thread and the pipeline's writes and KILL QUERY would
  // wait behind them. So it must come from the environment that starts us.
  const pool = Number(process.env.UV_THREADPOOL_SIZE ?? 4);
  if (pool < MIN_THREADPOOL) {
    log.warn({ uv_threadpool_size: pool, recommended: MIN_THREADPOOL }, 'UV_THREADPOOL_SIZE is small: long queries can hold every libuv thread; start with UV_THREADPOOL_SIZE=64');
  }
  const server = await startServer(config, { logger: log });
  log.info({ url: server.url, data_path: config.dataPath, auth: config.password !== '' }, 'listening');

  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down: finishing in-flight requests');
    setTimeout(() => {
      log.error({ grace_ms: SHUTDOWN_GRACE_MS }, 'shutdown took too long; exiting');
      process.exit(1);
    }, SHUTDOWN_GRACE_MS).unref();
    server.close().then(
      () => {
        log.info('stopped');
        process.exit(0);
      },
      (e: unknown) => {
        log.error({ err: e }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((e: unknown) => {
  process.stderr.write(`chdb-server failed to start: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
