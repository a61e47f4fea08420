import { z } from 'zod';
import { endpointsSchema, logLevel, parseEnv, port } from '@cdc/config';

const schema = z.object({
  HOST: z.string().default('127.0.0.1'),
  STREAM_PROCESSOR_PORT: port.default(3004),
  LOG_LEVEL: logLevel.default('info'),
  CLICKHOUSE_URL: endpointsSchema.shape.CLICKHOUSE_URL,
  CLICKHOUSE_USER: endpointsSchema.shape.CLICKHOUSE_USER,
  CLICKHOUSE_PASSWORD: endpointsSchema.shape.CLICKHOUSE_PASSWORD,
  // How often debezium.freshness is read into the cdc_clickhouse_* metrics.
  CDC_FRESHNESS_POLL_MS: z.coerce.number().int().min(100).max(600_000).default(5_000),
  // How often deleted users' empty entries are removed from debezium.users_join.
  CDC_USERS_JOIN_PURGE_MS: z.coerce.number().int().min(100).max(86_400_000).default(60_000),
});

export interface Config {
  host: string;
  port: number;
  logLevel: z.infer<typeof logLevel>;
  clickhouse: { url: string; username: string; password: string };
  freshnessPollMs: number;
  usersJoinPurgeMs: number;
}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const e = parseEnv('stream-processor', schema, env);
  return {
    host: e.HOST,
    port: e.STREAM_PROCESSOR_PORT,
    logLevel: e.LOG_LEVEL,
    clickhouse: { url: e.CLICKHOUSE_URL, username: e.CLICKHOUSE_USER, password: e.CLICKHOUSE_PASSWORD },
    freshnessPollMs: e.CDC_FRESHNESS_POLL_MS,
    usersJoinPurgeMs: e.CDC_USERS_JOIN_PURGE_MS,
  };
}
