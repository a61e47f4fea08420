import { logLevel, parseEnv } from '@cdc/config';
import { z } from 'zod';

/**
 * Port 0 is allowed here (unlike the shared `port` schema): it asks the OS for a
 * free port, which is how tests and scripts run a private instance.
 */
const listenPort = z.coerce.number().int().min(0).max(65535);

export const envSchema = z.object({
  CHDB_DATA_PATH: z.string().min(1, 'the chDB data directory is required'),
  // Loopback by default: this server has no TLS and, unless a password is set, no auth.
  CLICKHOUSE_HTTP_HOST: z.string().min(1).default('127.0.0.1'),
  CLICKHOUSE_HTTP_PORT: listenPort.default(8123),
  CHDB_MAX_BODY_BYTES: z.coerce.number().int().positive().default(256 * 1024 * 1024),
  LOG_LEVEL: logLevel.default('info'),
  CLICKHOUSE_USER: z.string().min(1).default('default'),
  CLICKHOUSE_PASSWORD: z.string().default(''),
  // A ClickHouse users file (YAML: profiles, users, constraints), the same one a
  // real server takes in users.d. Unset: one user, CLICKHOUSE_USER, with no limits.
  CHDB_USERS_FILE: z.string().min(1).optional(),
  // A ClickHouse server configuration file for the engine (--config-file), e.g. how
  // its Kafka tables log in to the broker (clickhouse/config.d/kafka.xml).
  CHDB_CONFIG_FILE: z.string().min(1).optional(),
});

export interface ServerConfig {
  readonly dataPath: string;
  readonly host: string;
  readonly port: number;
  /** Limit for a request body, both as received and once decompressed. */
  readonly maxBodyBytes: number;
  readonly logLevel: z.infer<typeof logLevel>;
  readonly user: string;
  /** Empty means no authentication, like a fresh ClickHouse `default` user. */
  readonly password: string;
  /** When set, its users replace user/password. */
  readonly usersFile: string | undefined;
  readonly configFile: string | undefined;
}

export function loadConfig(env: Record<string, string | undefined> = process.env): ServerConfig {
  const e = parseEnv('chdb-server', envSchema, env);
  return Object.freeze({
    dataPath: e.CHDB_DATA_PATH,
    host: e.CLICKHOUSE_HTTP_HOST,
    port: e.CLICKHOUSE_HTTP_PORT,
    maxBodyBytes: e.CHDB_MAX_BODY_BYTES,
    logLevel: e.LOG_LEVEL,
    user: e.CLICKHOUSE_USER,
    password: e.CLICKHOUSE_PASSWORD,
    usersFile: e.CHDB_USERS_FILE,
    configFile: e.CHDB_CONFIG_FILE,
  });
}
