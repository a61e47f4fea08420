import { existsSync } from 'node:fs';
import { z } from 'zod';

/**
 * Thrown when the environment does not satisfy a schema. The message lists every
 * problem at once so a misconfigured process fails with one readable error
 * instead of a chain of restarts, one missing variable at a time.
 */
export class ConfigError extends Error {
  constructor(
    readonly scope: string,
    readonly issues: readonly { path: string; message: string }[],
  ) {
    super(
      `Invalid ${scope} configuration:\n` +
        issues.map((i) => `  - ${i.path || '(root)'}: ${i.message}`).join('\n'),
    );
    this.name = 'ConfigError';
  }
}

/** Validates `env` once, at start, and returns a typed, frozen config object. */
export function parseEnv<S extends z.ZodType>(
  scope: string,
  schema: S,
  env: Record<string, string | undefined> = process.env,
): Readonly<z.infer<S>> {
  const result = schema.safeParse(env);
  if (!result.success) {
    throw new ConfigError(
      scope,
      result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
    );
  }
  return Object.freeze(result.data);
}

/** Loads `.env` from the working directory if there is one; real env vars win. */
export function loadDotEnv(file = '.env'): void {
  if (existsSync(file)) process.loadEnvFile(file);
}

export const port = z.coerce.number().int().min(1).max(65535);

export const booleanFlag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

export const httpUrl = z.url({ protocol: /^https?$/ });

/** Where the native stack serves the Confluent API of its schema registry. */
export const NATIVE_SCHEMA_REGISTRY_URL = 'http://127.0.0.1:8081/apis/ccompat/v6';

/**
 * A schema registry for readers and writers of Avro: unset means the native stack's,
 * set but empty (`SCHEMA_REGISTRY_URL=` in a .env) means none, i.e. Avro is refused.
 */
export const optionalRegistryUrl = z
  .preprocess((v) => (v === '' ? null : v), httpUrl.nullable().default(NATIVE_SCHEMA_REGISTRY_URL))
  .transform((v) => v ?? undefined);

export const postgresUrl = z.url({ protocol: /^postgres(ql)?$/ });

/** "host:port,host:port" → ["host:port", ...] */
export const brokerList = z
  .string()
  .min(1)
  .transform((s) => s.split(',').map((b) => b.trim()).filter(Boolean))
  .pipe(z.array(z.string().regex(/^[^:\s]+:\d+$/, 'expected host:port')).min(1));

export const logLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

/**
 * A value holding a password: no default (docs/security.md, "Secrets"). The first
 * `npm run up` generates it into .env; the tests' stack sets its own.
 */
export const secret = <S extends z.ZodType<string>>(schema: S) =>
  schema
    .optional()
    .refine((v) => v !== undefined, 'not set: `npm run up` generates it into .env (see .env.example)')
    .transform((v) => v as string);

/**
 * A Kafka principal's password. It goes into JAAS configurations and Kafka's own
 * command-line tools, whose quoting differs: a plain alphabet keeps it intact in all.
 */
export const kafkaPassword = z
  .string()
  .regex(/^[A-Za-z0-9_.~+/=-]{12,}$/, 'at least 12 characters, letters, digits and _ . ~ + / = - only');

/**
 * Addresses of every part of the pipeline, shared by the stack scripts, the apps
 * and the tests so that one `.env` points all of them at the same servers. Addresses
 * default to the native stack's; passwords have no default.
 */
export const endpointsSchema = z.object({
  CRM_DATABASE_URL: secret(postgresUrl),
  TELEMETRY_DATABASE_URL: secret(postgresUrl),
  KAFKA_BROKERS: brokerList.default(['127.0.0.1:9092']),
  // The Kafka principal this process authenticates as (SASL/SCRAM-SHA-512). Scripts and
  // tests are `admin`; the stack starts each app as its own principal, whose ACLs allow
  // only its own topics (docs/security.md, "Kafka").
  KAFKA_USER: z.string().min(1).default('admin'),
  KAFKA_PASSWORD: secret(kafkaPassword),
  KAFKA_CONNECT_URL: httpUrl.default('http://127.0.0.1:8083'),
  // A Confluent-compatible schema registry (Apicurio: /apis/ccompat/v6 natively,
  // /apis/ccompat/v7 for the 3.x in docker-compose), for Avro topics.
  SCHEMA_REGISTRY_URL: httpUrl.default(NATIVE_SCHEMA_REGISTRY_URL),
  CLICKHOUSE_URL: httpUrl.default('http://127.0.0.1:8123'),
  // The pipeline's own ClickHouse user (clickhouse/users.yaml): the apps, the stack's
  // scripts and the tests.
  CLICKHOUSE_USER: z.string().min(1).default('pipeline'),
  CLICKHOUSE_PASSWORD: secret(z.string().min(1)),
  // The read-only, bounded user for people and BI tools: `npm run sql`, the
  // processor's /query, JDBC apps.
  CLICKHOUSE_ANALYST_USER: z.string().min(1).default('analyst'),
  CLICKHOUSE_ANALYST_PASSWORD: secret(z.string().min(1)),
  // How ClickHouse's Kafka engine reaches the brokers, when that differs from how
  // everything else does (in docker-compose: kafka:29092 inside the network).
  CLICKHOUSE_KAFKA_BROKERS: brokerList.optional(),
  // How ClickHouse reaches telemetry_db for `npm run snapshot` (its postgresql() table
  // function), when that differs from TELEMETRY_DATABASE_URL (docker-compose: postgres-telemetry:5432).
  CLICKHOUSE_TELEMETRY_DATABASE_URL: postgresUrl.optional(),
  CRM_API_PORT: port.default(3002),
  TELEMETRY_API_PORT: port.default(3003),
  STREAM_PROCESSOR_PORT: port.default(3004),
  CONSOLE_PORT: port.default(3005),
  // The console's address as a browser reaches it, for links printed by the CLIs and
  // logged by the apps; unset, http://127.0.0.1:<CONSOLE_PORT>.
  CONSOLE_PUBLIC_URL: httpUrl.optional(),
});

export type Endpoints = z.infer<typeof endpointsSchema>;

/** Where links into the console point (no trailing slash). */
export function consoleBaseUrl(e: Pick<Endpoints, 'CONSOLE_PORT' | 'CONSOLE_PUBLIC_URL'>): string {
  return (e.CONSOLE_PUBLIC_URL ?? `http://127.0.0.1:${e.CONSOLE_PORT}`).replace(/\/$/, '');
}

export function loadEndpoints(env: Record<string, string | undefined> = process.env): Endpoints {
  return parseEnv('endpoints', endpointsSchema, env);
}

export * from './tracing.js';
export * from './api-auth.js';
export * from './http-server.js';
