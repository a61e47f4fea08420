import { resolve } from 'node:path';
import { z } from 'zod';
import { endpointsSchema, kafkaPassword, parseEnv, port, secret } from '@cdc/config';

export const REPO_ROOT = resolve(import.meta.dirname, '..', '..');

const seconds = z.coerce.number().positive();

const stackEnvSchema = endpointsSchema.extend({
  STACK_DIR: z.string().default('.stack'),
  /**
   * Downloaded jars and the built registry. Unset: `<STACK_DIR>/cache`. A second stack
   * (the tests' own) points it at the first one's, so it downloads nothing again.
   */
  STACK_CACHE_DIR: z.string().optional(),
  /** Debian's PostgreSQL 15 binaries; initdb/pg_ctl are not on PATH by default. */
  PG_BIN: z.string().default('/usr/lib/postgresql/15/bin'),
  KAFKA_CONTROLLER_PORT: port.default(9093),
  // The passwords of the broker's other principals (scripts/stack/kafka-acl.ts); the
  // admin's is KAFKA_PASSWORD.
  KAFKA_CONNECT_PASSWORD: secret(kafkaPassword),
  KAFKA_CLICKHOUSE_PASSWORD: secret(kafkaPassword),
  KAFKA_PROCESSOR_PASSWORD: secret(kafkaPassword),
  KAFKA_CONSOLE_PASSWORD: secret(kafkaPassword),
  KAFKA_ERASER_PASSWORD: secret(kafkaPassword),
  KAFKA_HEAP: z.string().default('-Xms256m -Xmx512m'),
  CONNECT_HEAP: z.string().default('-Xms256m -Xmx512m'),
  REGISTRY_HEAP: z.string().default('-Xms32m -Xmx192m'),
  DEBEZIUM_VERSION: z.string().default('3.6.3.Final'),
  /**
   * embedded: the stack runs chDB behind a ClickHouse HTTP endpoint at CLICKHOUSE_URL;
   * external: CLICKHOUSE_URL is a real server the stack only checks. Unset: embedded
   * for a loopback URL, external otherwise, so pointing CLICKHOUSE_URL at a server is enough.
   */
  CLICKHOUSE_MODE: z.enum(['embedded', 'external']).optional(),
  STACK_WAIT_POSTGRES_S: seconds.default(30),
  STACK_WAIT_KAFKA_S: seconds.default(90),
  STACK_WAIT_CONNECT_S: seconds.default(120),
  STACK_WAIT_REGISTRY_S: seconds.default(60),
  STACK_WAIT_CLICKHOUSE_S: seconds.default(60),
  STACK_WAIT_APP_S: seconds.default(60),
  /** The console's write token; unset: generated once into <STACK_DIR>/console/token. */
  CONSOLE_TOKEN: z.string().min(16).optional(),
});

export type StackEnv = z.infer<typeof stackEnvSchema>;

export interface PgCluster {
  /** Short name used for directories, logs and status lines. */
  name: 'postgres-crm' | 'postgres-telemetry';
  url: URL;
  database: string;
  port: number;
  dataDir: string;
  logFile: string;
}

export interface StackConfig {
  env: StackEnv;
  root: string;
  stateDir: string;
  cacheDir: string;
  logDir: string;
  runDir: string;
  postgres: PgCluster[];
  kafka: { host: string; port: number; controllerPort: number; dir: string };
  connect: { url: URL; dir: string };
  /** Base URL of the Confluent API, ending in '/' so relative paths resolve under it. */
  registry: { url: URL; dir: string };
  clickhouse: { url: URL; embedded: boolean; dataDir: string };
}

function pgCluster(name: PgCluster['name'], raw: string, stateDir: string, logDir: string): PgCluster {
  const url = new URL(raw);
  return {
    name,
    url,
    database: url.pathname.replace(/^\//, ''),
    port: Number(url.port || 5432),
    dataDir: resolve(stateDir, name, 'data'),
    logFile: resolve(logDir, `${name}.log`),
  };
}

function isLoopback(url: string): boolean {
  return ['127.0.0.1', 'localhost', '[::1]'].includes(new URL(url).hostname);
}

export function loadStackConfig(env: Record<string, string | undefined> = process.env): StackConfig {
  const e = parseEnv('stack', stackEnvSchema, env);
  const stateDir = resolve(REPO_ROOT, e.STACK_DIR);
  const logDir = resolve(stateDir, 'logs');
  const [kafkaHost, kafkaPort] = e.KAFKA_BROKERS[0]!.split(':') as [string, string];
  return {
    env: e,
    root: REPO_ROOT,
    stateDir,
    cacheDir: e.STACK_CACHE_DIR ? resolve(REPO_ROOT, e.STACK_CACHE_DIR) : resolve(stateDir, 'cache'),
    logDir,
    runDir: resolve(stateDir, 'run'),
    postgres: [
      pgCluster('postgres-crm', e.CRM_DATABASE_URL, stateDir, logDir),
      pgCluster('postgres-telemetry', e.TELEMETRY_DATABASE_URL, stateDir, logDir),
    ],
    kafka: {
      host: kafkaHost,
      port: Number(kafkaPort),
      controllerPort: e.KAFKA_CONTROLLER_PORT,
      dir: resolve(stateDir, 'kafka'),
    },
    connect: { url: new URL(e.KAFKA_CONNECT_URL), dir: resolve(stateDir, 'connect') },
    registry: { url: new URL(e.SCHEMA_REGISTRY_URL.replace(/\/?$/, '/')), dir: resolve(stateDir, 'schema-registry') },
    clickhouse: {
      url: new URL(e.CLICKHOUSE_URL),
      embedded: (e.CLICKHOUSE_MODE ?? (isLoopback(e.CLICKHOUSE_URL) ? 'embedded' : 'external')) === 'embedded',
      dataDir: resolve(stateDir, 'clickhouse', 'data'),
    },
  };
}
