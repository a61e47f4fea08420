import { z } from 'zod';
import { kafkaAccess, type KafkaAccess } from '@cdc/kafka';
import {
  apiAuthEnv,
  consoleBaseUrl,
  endpointsSchema,
  logLevel,
  optionalRegistryUrl,
  parseEnv,
  port,
  toApiAuthConfig,
  toTracingConfig,
  tracingEnv,
  type ApiAuthConfig,
  type TracingConfig,
} from '@cdc/config';

/** An events fetch answers as soon as anything is there, or after 100 ms (STREAM_PROCESSOR_FETCH_*). */
export const FETCH_DEFAULTS = { minBytes: 1, waitMs: 100 } as const;

/**
 * Partitions of the events topic processed at once (the Debezium topics have 3), and
 * the rows at most in one group of chunks written to ClickHouse together
 * (STREAM_PROCESSOR_PARTITIONS, STREAM_PROCESSOR_GROUP_ROWS; see group-writer.ts).
 */
export const GROUP_DEFAULTS = { partitions: 3, rows: 60_000 } as const;

const schema = z.object({
  HOST: z.string().default('127.0.0.1'),
  STREAM_PROCESSOR_PORT: port.default(3004),
  LOG_LEVEL: logLevel.default('info'),
  KAFKA_BROKERS: endpointsSchema.shape.KAFKA_BROKERS,
  // The stack starts the processor as principal `processor`, allowed only its topics and groups.
  KAFKA_USER: endpointsSchema.shape.KAFKA_USER,
  KAFKA_PASSWORD: endpointsSchema.shape.KAFKA_PASSWORD,
  // Where the console is, for links in log lines (a poison message's page).
  CONSOLE_PORT: endpointsSchema.shape.CONSOLE_PORT,
  CONSOLE_PUBLIC_URL: endpointsSchema.shape.CONSOLE_PUBLIC_URL,
  // Needed when a topic carries Avro (Confluent wire format) and for the output topic.
  SCHEMA_REGISTRY_URL: optionalRegistryUrl,
  // Optional: also write every enriched event to this topic in Avro (needs the registry).
  STREAM_PROCESSOR_OUTPUT_TOPIC: z.string().min(1).optional(),
  STREAM_PROCESSOR_GROUP: z.string().min(1).default('stream-processor'),
  // The Debezium topics read; another connector's (connectors/avro/) for the Avro path.
  STREAM_PROCESSOR_USERS_TOPIC: z.string().min(1).default('crm.public.users'),
  STREAM_PROCESSOR_EVENTS_TOPIC: z.string().min(1).default('telemetry.public.telemetry_events'),
  STREAM_PROCESSOR_CHUNK: z.coerce.number().int().min(1).max(100_000).default(20_000),
  STREAM_PROCESSOR_FETCH_BYTES: z.coerce.number().int().min(65_536).max(256 * 1024 * 1024).default(8 * 1024 * 1024),
  // A fetch of the events topic returns once it has this many bytes or has waited this
  // long. Larger values make fewer, larger batches under load; at 3,500 events/s,
  // 256 KiB / 250 ms did not lower the processor's cost (docs/freshness.md), so the
  // default answers as soon as anything is there.
  STREAM_PROCESSOR_FETCH_MIN_BYTES: z.coerce.number().int().min(1).max(64 * 1024 * 1024).default(FETCH_DEFAULTS.minBytes),
  STREAM_PROCESSOR_FETCH_WAIT_MS: z.coerce.number().int().min(10).max(10_000).default(FETCH_DEFAULTS.waitMs),
  STREAM_PROCESSOR_PARTITIONS: z.coerce.number().int().min(1).max(64).default(GROUP_DEFAULTS.partitions),
  STREAM_PROCESSOR_GROUP_ROWS: z.coerce.number().int().min(1).max(1_000_000).default(GROUP_DEFAULTS.rows),
  // ClickHouse writes: retries with exponential backoff and jitter, then the breaker.
  STREAM_PROCESSOR_RETRIES: z.coerce.number().int().min(0).max(20).default(4),
  STREAM_PROCESSOR_BREAKER_RESET_MS: z.coerce.number().int().min(100).max(600_000).default(5_000),
  CLICKHOUSE_URL: endpointsSchema.shape.CLICKHOUSE_URL,
  CLICKHOUSE_USER: endpointsSchema.shape.CLICKHOUSE_USER,
  CLICKHOUSE_PASSWORD: endpointsSchema.shape.CLICKHOUSE_PASSWORD,
  CLICKHOUSE_ANALYST_USER: endpointsSchema.shape.CLICKHOUSE_ANALYST_USER,
  CLICKHOUSE_ANALYST_PASSWORD: endpointsSchema.shape.CLICKHOUSE_ANALYST_PASSWORD,
  // How often the enrich group's lag is read from Kafka (cdc_processor_consumer_lag_messages).
  STREAM_PROCESSOR_LAG_POLL_MS: z.coerce.number().int().min(100).max(600_000).default(10_000),
  // How often debezium.freshness is read into the cdc_clickhouse_* metrics.
  CDC_FRESHNESS_POLL_MS: z.coerce.number().int().min(100).max(600_000).default(5_000),
  // How often deleted users' empty entries are removed from debezium.users_join.
  CDC_USERS_JOIN_PURGE_MS: z.coerce.number().int().min(100).max(86_400_000).default(60_000),
  // OpenTelemetry: off unless OTEL_TRACES_EXPORTER=otlp (see packages/config/src/tracing.ts).
  ...tracingEnv.shape,
  // /query needs a key with analytics:read (docs/security.md). Keys are read from
  // telemetry_db's auth.api_keys, where `npm run keys` writes them.
  ...apiAuthEnv.shape,
  TELEMETRY_DATABASE_URL: endpointsSchema.shape.TELEMETRY_DATABASE_URL,
}).refine((e) => !e.STREAM_PROCESSOR_OUTPUT_TOPIC || e.SCHEMA_REGISTRY_URL, {
  message: 'STREAM_PROCESSOR_OUTPUT_TOPIC writes Avro and needs SCHEMA_REGISTRY_URL',
  path: ['SCHEMA_REGISTRY_URL'],
});

export interface Config {
  host: string;
  port: number;
  logLevel: z.infer<typeof logLevel>;
  /** The pipeline's user: the processor's writes and monitoring reads. */
  clickhouse: { url: string; username: string; password: string };
  /** The analyst user, for ad-hoc queries over GET/POST /query. */
  clickhouseAnalyst: { url: string; username: string; password: string };
  kafka: KafkaAccess;
  schemaRegistryUrl: string | undefined;
  outputTopic: string | undefined;
  /** The console's address, for links in log lines. */
  consoleUrl: string;
  groupPrefix: string;
  usersTopic: string;
  eventsTopic: string;
  chunkSize: number;
  fetchBytes: number;
  fetchMinBytes: number;
  fetchWaitMs: number;
  partitionsConcurrently: number;
  groupRows: number;
  retries: number;
  breakerResetMs: number;
  freshnessPollMs: number;
  lagPollMs: number;
  usersJoinPurgeMs: number;
  /** Undefined: tracing off. */
  tracing: TracingConfig | undefined;
  auth: ApiAuthConfig;
  /** Where API keys are read from. */
  keysDatabaseUrl: string;
}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const e = parseEnv('stream-processor', schema, env);
  return {
    host: e.HOST,
    port: e.STREAM_PROCESSOR_PORT,
    logLevel: e.LOG_LEVEL,
    clickhouse: { url: e.CLICKHOUSE_URL, username: e.CLICKHOUSE_USER, password: e.CLICKHOUSE_PASSWORD },
    clickhouseAnalyst: { url: e.CLICKHOUSE_URL, username: e.CLICKHOUSE_ANALYST_USER, password: e.CLICKHOUSE_ANALYST_PASSWORD },
    kafka: kafkaAccess(e),
    schemaRegistryUrl: e.SCHEMA_REGISTRY_URL,
    outputTopic: e.STREAM_PROCESSOR_OUTPUT_TOPIC,
    consoleUrl: consoleBaseUrl(e),
    groupPrefix: e.STREAM_PROCESSOR_GROUP,
    usersTopic: e.STREAM_PROCESSOR_USERS_TOPIC,
    eventsTopic: e.STREAM_PROCESSOR_EVENTS_TOPIC,
    chunkSize: e.STREAM_PROCESSOR_CHUNK,
    fetchBytes: e.STREAM_PROCESSOR_FETCH_BYTES,
    fetchMinBytes: e.STREAM_PROCESSOR_FETCH_MIN_BYTES,
    fetchWaitMs: e.STREAM_PROCESSOR_FETCH_WAIT_MS,
    partitionsConcurrently: e.STREAM_PROCESSOR_PARTITIONS,
    groupRows: e.STREAM_PROCESSOR_GROUP_ROWS,
    retries: e.STREAM_PROCESSOR_RETRIES,
    breakerResetMs: e.STREAM_PROCESSOR_BREAKER_RESET_MS,
    lagPollMs: e.STREAM_PROCESSOR_LAG_POLL_MS,
    freshnessPollMs: e.CDC_FRESHNESS_POLL_MS,
    usersJoinPurgeMs: e.CDC_USERS_JOIN_PURGE_MS,
    tracing: toTracingConfig(e, 'stream-processor'),
    auth: toApiAuthConfig(e, 'stream-processor', e.HOST),
    keysDatabaseUrl: e.TELEMETRY_DATABASE_URL,
  };
}
