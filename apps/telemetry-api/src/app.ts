import { createApiKeyStore } from '@cdc/db/api-keys';
import type { TelemetryDb } from '@cdc/db/telemetry';
import { createApiApp, createHttpMetrics, type ApiApp, type HttpMetrics } from '@cdc/http';
import { LIMITS } from '@cdc/schemas';
import { postgresSpan, traceMethods } from '@cdc/tracing';
import type { Tracer } from '@opentelemetry/api';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { mapError } from './db-errors.js';
import { createEventsRepository } from './events-repository.js';
import { BATCH_MAX_BODY_BYTES, SINGLE_MAX_BODY_BYTES } from './limits.js';
import { createIngestCounter } from './metrics.js';
import { registerEventRoutes } from './routes/events.js';

export const SERVICE = 'telemetry-api';
export const VERSION = '1.0.0';

export interface AppDeps {
  db: Pick<TelemetryDb, 'pool'>;
  log: Logger;
  config: Pick<Config, 'auth'>;
  /** Set when tracing is on: server spans, and a span per repository call under them. */
  tracer?: Tracer;
}

export interface TelemetryApp {
  app: ApiApp;
  metrics: HttpMetrics;
}

/**
 * The whole HTTP surface from injected dependencies and nothing global, so tests can
 * build as many instances as they need (one behind a cut-able proxy, say).
 */
export function createApp({ db, log, config, tracer }: AppDeps): TelemetryApp {
  // pg emits 'error' when an idle pooled connection dies (database restart, network
  // cut); unheard, that event would crash the process. The pool drops the
  // connection and opens a new one on the next request: that is how the service
  // recovers from an outage without a restart.
  db.pool.on('error', (err) => log.warn({ err: err.message }, 'idle database connection lost'));

  // With tracing on, each call to the database is a span under the request's.
  const traced = <T extends object>(target: T, table: string): T =>
    tracer ? traceMethods(target, tracer, postgresSpan(db.pool.options.connectionString, table)) : target;

  const metrics = createHttpMetrics(SERVICE);
  metrics.observePool('telemetry', () => ({
    total: db.pool.totalCount,
    idle: db.pool.idleCount,
    waiting: db.pool.waitingCount,
  }));

  const app = createApiApp({
    service: SERVICE,
    title: 'Telemetry API',
    version: VERSION,
    description:
      'EMG sensor events from prostheses (telemetry_db.public.telemetry_events); every stored event is ' +
      'streamed to Kafka by Debezium.\n\n' +
      'Writes are idempotent by `event_uuid`. Request bodies: application/json, at most ' +
      `${SINGLE_MAX_BODY_BYTES / 1024} KiB for POST /telemetry-events and ` +
      `${BATCH_MAX_BODY_BYTES / 1024 / 1024} MiB for POST /telemetry-events/batch ` +
      `(${LIMITS.batchMaxItems} events of typical size are about 3 MB); larger → 413. ` +
      'Every error is application/problem+json (RFC 9457); input errors (422) list every problem in `errors`. ' +
      'A database outage answers 503 with Retry-After.\n\n' +
      'Every route but /health and the documentation needs an API key (`Authorization: Bearer cdc_…`, from ' +
      '`npm run keys -- create`) with the scope the route names; use **Authorize** above to try them here.',
    log,
    metrics,
    readiness: [
      {
        name: 'telemetry_db',
        check: async () => {
          await db.pool.query('SELECT 1');
        },
      },
    ],
    // The larger (batch) limit; the single route adds its own, stricter one.
    maxBodyBytes: BATCH_MAX_BODY_BYTES,
    mapError,
    tracer,
    // Keys are read from this service's own database, so telemetry keeps flowing
    // while the CRM cluster is down.
    auth: { config: config.auth, keys: traced(createApiKeyStore(db.pool), 'api_keys'), store: 'telemetry_db' },
  });

  registerEventRoutes(app, {
    repo: traced(createEventsRepository(db.pool), 'telemetry_events'),
    ingested: createIngestCounter(metrics.registry),
  });
  return { app, metrics };
}
