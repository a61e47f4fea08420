import type { CrmDb } from '@cdc/db/crm';
import { createApiKeyStore } from '@cdc/db/api-keys';
import { createApiApp, createHttpMetrics, type ApiApp, type HttpMetrics } from '@cdc/http';
import { postgresSpan, traceMethods } from '@cdc/tracing';
import type { Tracer } from '@opentelemetry/api';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { mapDbError } from './db-errors.js';
import { registerUserRoutes, type Eraser } from './routes/users.js';
import { createUsersRepository } from './users-repository.js';

export const SERVICE = 'crm-api';
export const VERSION = '0.1.0';

export interface AppDeps {
  db: Pick<CrmDb, 'prisma' | 'pool'>;
  log: Logger;
  config: Pick<Config, 'maxBodyBytes' | 'auth'>;
  /** Set when tracing is on: server spans, and a span per repository (Prisma) call under them. */
  tracer?: Tracer;
  /** POST /users/{id}/erase; unset (tests of other routes), it answers 500. */
  erase?: Eraser;
}

export interface CrmApp {
  app: ApiApp;
  metrics: HttpMetrics;
}

/**
 * The whole HTTP surface, built from injected dependencies and nothing global, so
 * tests build as many instances as they need (one on a dead database, say).
 */
export function createApp({ db, log, config, tracer, erase }: AppDeps): CrmApp {
  // pg emits 'error' when an idle pooled connection dies (database restart, network
  // cut); unheard, that event would crash the process. The pool drops the
  // connection and opens a fresh one on the next request: this is how the service
  // recovers without a restart.
  db.pool.on('error', (err) => log.warn({ err: err.message }, 'idle database connection lost'));

  // With tracing on, each call to the database is a span under the request's.
  const traced = <T extends object>(target: T, table: string): T =>
    tracer ? traceMethods(target, tracer, postgresSpan(db.pool.options.connectionString, table)) : target;

  const metrics = createHttpMetrics(SERVICE);
  metrics.observePool('crm', () => ({
    total: db.pool.totalCount,
    idle: db.pool.idleCount,
    waiting: db.pool.waitingCount,
  }));

  const kib = Math.round(config.maxBodyBytes / 1024);
  const app = createApiApp({
    service: SERVICE,
    title: 'CRM API',
    version: VERSION,
    description:
      'Users of the CRM (crm_db.public.users); every change is streamed to Kafka by Debezium.\n\n' +
      `Request bodies: application/json, at most ${kib} KiB (${config.maxBodyBytes} bytes; larger → 413). ` +
      'Every error is application/problem+json (RFC 9457); input errors (422) list every problem in `errors`. ' +
      'While the database is unreachable, requests get 503 with Retry-After and /ready answers 503.\n\n' +
      'Every route but /health and the documentation needs an API key (`Authorization: Bearer cdc_…`, from ' +
      '`npm run keys -- create`) with the scope the route names; use **Authorize** above to try them here.',
    log,
    metrics,
    maxBodyBytes: config.maxBodyBytes,
    readiness: [
      {
        name: 'crm_db',
        // Straight on the pool: readiness is about the database, not the ORM.
        check: async () => {
          await db.pool.query('SELECT 1');
        },
      },
    ],
    mapError: mapDbError,
    tracer,
    // Keys are read from this service's own database, so the CRM API keeps working
    // while the telemetry cluster is down (and the other way round).
    auth: { config: config.auth, keys: traced(createApiKeyStore(db.pool), 'api_keys'), store: 'crm_db' },
  });

  const noEraser: Eraser = async () => {
    throw new Error('erasure is not configured in this process (no ClickHouse client)');
  };
  registerUserRoutes(app, traced(createUsersRepository(db.prisma), 'users'), erase ?? noEraser);
  return { app, metrics };
}
