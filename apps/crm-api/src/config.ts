import { z } from 'zod';
import { kafkaAccess, type KafkaAccess } from '@cdc/kafka';
import { apiAuthEnv, httpServerEnv, toHttpServerTimeouts, type HttpServerTimeouts, endpointsSchema, logLevel, parseEnv, toApiAuthConfig, toTracingConfig, tracingEnv, type ApiAuthConfig, type TracingConfig } from '@cdc/config';

const schema = z.object({
  HOST: z.string().min(1).default('127.0.0.1'),
  // The same definitions as the rest of the pipeline: the port's default, and the
  // database URL (its password has no default) from .env or the environment.
  CRM_API_PORT: endpointsSchema.shape.CRM_API_PORT,
  CRM_DATABASE_URL: endpointsSchema.shape.CRM_DATABASE_URL,
  LOG_LEVEL: logLevel.default('info'),
  // Erasure (POST /users/{id}/erase) removes the user's copies in ClickHouse as well,
  // as the pipeline's user.
  CLICKHOUSE_URL: endpointsSchema.shape.CLICKHOUSE_URL,
  CLICKHOUSE_USER: endpointsSchema.shape.CLICKHOUSE_USER,
  CLICKHOUSE_PASSWORD: endpointsSchema.shape.CLICKHOUSE_PASSWORD,
  // ...and the user's records from Kafka, as a principal that may write tombstones to
  // the user topics (the stack gives it `eraser`, scripts/stack/kafka-acl.ts).
  KAFKA_BROKERS: endpointsSchema.shape.KAFKA_BROKERS,
  KAFKA_USER: endpointsSchema.shape.KAFKA_USER,
  KAFKA_PASSWORD: endpointsSchema.shape.KAFKA_PASSWORD,
  // How long an erasure waits for the user's delete to reach ClickHouse through CDC.
  CRM_ERASURE_CDC_TIMEOUT_MS: z.coerce.number().int().min(1_000).max(600_000).default(60_000),
  CRM_DB_POOL_MAX: z.coerce.number().int().min(1).max(100).default(10),
  // How long SIGTERM waits for in-flight requests before cutting connections.
  CRM_API_SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).max(120_000).default(10_000),
  // OpenTelemetry: off unless OTEL_TRACES_EXPORTER=otlp (see packages/config/src/tracing.ts).
  ...tracingEnv.shape,
  // API keys, scopes, rate limits (docs/security.md).
  ...apiAuthEnv.shape,
  // Slow and idle clients (docs/security.md).
  ...httpServerEnv.shape,
});

export interface Config {
  host: string;
  port: number;
  logLevel: z.infer<typeof logLevel>;
  databaseUrl: string;
  dbPoolMax: number;
  clickhouse: { CLICKHOUSE_URL: string; CLICKHOUSE_USER: string; CLICKHOUSE_PASSWORD: string };
  kafka: KafkaAccess;
  erasureCdcTimeoutMs: number;
  shutdownGraceMs: number;
  /** Undefined: tracing off. */
  tracing: TracingConfig | undefined;
  auth: ApiAuthConfig;
  timeouts: HttpServerTimeouts;
  /**
   * Largest accepted request body. Part of the API contract (documented in the
   * OpenAPI description), not an environment knob: one user is far below 4 KiB,
   * so 64 KiB leaves room without letting a client make us buffer megabytes.
   */
  maxBodyBytes: number;
}

export const MAX_BODY_BYTES = 64 * 1024;

/** Reads and validates the environment once, at start; every problem is listed in one error. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const e = parseEnv('crm-api', schema, env);
  return Object.freeze({
    host: e.HOST,
    port: e.CRM_API_PORT,
    logLevel: e.LOG_LEVEL,
    databaseUrl: e.CRM_DATABASE_URL,
    dbPoolMax: e.CRM_DB_POOL_MAX,
    clickhouse: { CLICKHOUSE_URL: e.CLICKHOUSE_URL, CLICKHOUSE_USER: e.CLICKHOUSE_USER, CLICKHOUSE_PASSWORD: e.CLICKHOUSE_PASSWORD },
    kafka: kafkaAccess(e),
    erasureCdcTimeoutMs: e.CRM_ERASURE_CDC_TIMEOUT_MS,
    shutdownGraceMs: e.CRM_API_SHUTDOWN_GRACE_MS,
    tracing: toTracingConfig(e, 'crm-api'),
    auth: toApiAuthConfig(e, 'crm-api', e.HOST),
    timeouts: toHttpServerTimeouts(e),
    maxBodyBytes: MAX_BODY_BYTES,
  });
}
