import { z } from 'zod';
import { apiAuthEnv, httpServerEnv, toHttpServerTimeouts, type HttpServerTimeouts, endpointsSchema, logLevel, parseEnv, port, toApiAuthConfig, toTracingConfig, tracingEnv, type ApiAuthConfig, type TracingConfig } from '@cdc/config';

const schema = z.object({
  HOST: z.string().default('127.0.0.1'),
  TELEMETRY_API_PORT: port.default(3003),
  TELEMETRY_DATABASE_URL: endpointsSchema.shape.TELEMETRY_DATABASE_URL,
  // Each batch request holds one connection for one statement, so a handful is
  // enough; the database (max_connections 100) is shared with Debezium and the CRM.
  TELEMETRY_DB_POOL_MAX: z.coerce.number().int().min(1).max(100).default(10),
  LOG_LEVEL: logLevel.default('info'),
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
  databaseUrl: string;
  poolMax: number;
  logLevel: z.infer<typeof logLevel>;
  /** Undefined: tracing off. */
  tracing: TracingConfig | undefined;
  auth: ApiAuthConfig;
  timeouts: HttpServerTimeouts;
}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const e = parseEnv('telemetry-api', schema, env);
  return {
    host: e.HOST,
    port: e.TELEMETRY_API_PORT,
    databaseUrl: e.TELEMETRY_DATABASE_URL,
    poolMax: e.TELEMETRY_DB_POOL_MAX,
    logLevel: e.LOG_LEVEL,
    tracing: toTracingConfig(e, 'telemetry-api'),
    auth: toApiAuthConfig(e, 'telemetry-api', e.HOST),
    timeouts: toHttpServerTimeouts(e),
  };
}
