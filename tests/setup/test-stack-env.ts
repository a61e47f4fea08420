/**
 * The tests' own stack: a second state directory and every port shifted by 10,000, so
 * `npm test` never writes into, kills parts of or leaves consumer groups in the stack
 * `npm run up` started for the user (defaults in packages/config). Every test reads
 * its addresses from these variables, and so does every script or app a test starts:
 * vitest.config.ts puts them into the environment of every test process.
 *
 * The jar cache is shared with the user's stack: it holds downloads only, never data.
 */
export const TEST_STACK_ENV = {
  STACK_DIR: '.stack-test',
  STACK_CACHE_DIR: '.stack/cache',
  CRM_DATABASE_URL: 'postgresql://postgres:postgres@127.0.0.1:25432/crm_db',
  TELEMETRY_DATABASE_URL: 'postgresql://postgres:postgres@127.0.0.1:25433/telemetry_db',
  KAFKA_BROKERS: '127.0.0.1:19092',
  KAFKA_USER: 'admin',
  KAFKA_PASSWORD: 'admin-dev-secret',
  KAFKA_CONNECT_PASSWORD: 'connect-dev-secret',
  KAFKA_CLICKHOUSE_PASSWORD: 'clickhouse-dev-secret',
  KAFKA_PROCESSOR_PASSWORD: 'processor-dev-secret',
  KAFKA_CONSOLE_PASSWORD: 'console-dev-secret',
  KAFKA_ERASER_PASSWORD: 'eraser-dev-secret',
  KAFKA_CONTROLLER_PORT: '19093',
  KAFKA_CONNECT_URL: 'http://127.0.0.1:18083',
  SCHEMA_REGISTRY_URL: 'http://127.0.0.1:18081/apis/ccompat/v6',
  CLICKHOUSE_URL: 'http://127.0.0.1:18123',
  CLICKHOUSE_MODE: 'embedded',
  CLICKHOUSE_USER: 'pipeline',
  CLICKHOUSE_PASSWORD: 'pipeline-dev',
  CLICKHOUSE_ANALYST_USER: 'analyst',
  CLICKHOUSE_ANALYST_PASSWORD: 'analyst-dev',
  CLICKHOUSE_KAFKA_BROKERS: '127.0.0.1:19092',
  CRM_API_PORT: '13002',
  TELEMETRY_API_PORT: '13003',
  STREAM_PROCESSOR_PORT: '13004',
  CONSOLE_PORT: '13005',
} as const satisfies Record<string, string>;
