/**
 * The passwords every configuration needs (they have no defaults), at the native
 * stack's addresses: for unit tests of configuration loaders, which pass their own env.
 */
export const SECRETS_ENV = {
  CRM_DATABASE_URL: 'postgresql://postgres:test-secret@127.0.0.1:15432/crm_db',
  TELEMETRY_DATABASE_URL: 'postgresql://postgres:test-secret@127.0.0.1:15433/telemetry_db',
  CLICKHOUSE_PASSWORD: 'test-pipeline-secret',
  CLICKHOUSE_ANALYST_PASSWORD: 'test-analyst-secret',
  KAFKA_PASSWORD: 'test-kafka-admin-secret',
  KAFKA_CONNECT_PASSWORD: 'test-kafka-connect-secret',
  KAFKA_CLICKHOUSE_PASSWORD: 'test-kafka-clickhouse-secret',
  KAFKA_PROCESSOR_PASSWORD: 'test-kafka-processor-secret',
  KAFKA_CONSOLE_PASSWORD: 'test-kafka-console-secret',
  KAFKA_ERASER_PASSWORD: 'test-kafka-eraser-secret',
} as const;

/** What docker-compose.yaml needs to render (its passwords have no defaults either). */
export const COMPOSE_ENV = {
  ...process.env,
  POSTGRES_PASSWORD: 'compose-test-secret',
  GRAFANA_ADMIN_PASSWORD: 'compose-test-grafana',
  CLICKHOUSE_PASSWORD: SECRETS_ENV.CLICKHOUSE_PASSWORD,
  CLICKHOUSE_ANALYST_PASSWORD: SECRETS_ENV.CLICKHOUSE_ANALYST_PASSWORD,
  KAFKA_PASSWORD: SECRETS_ENV.KAFKA_PASSWORD,
  KAFKA_CONNECT_PASSWORD: SECRETS_ENV.KAFKA_CONNECT_PASSWORD,
  KAFKA_CLICKHOUSE_PASSWORD: SECRETS_ENV.KAFKA_CLICKHOUSE_PASSWORD,
  KAFKA_PROCESSOR_PASSWORD: SECRETS_ENV.KAFKA_PROCESSOR_PASSWORD,
  KAFKA_CONSOLE_PASSWORD: SECRETS_ENV.KAFKA_CONSOLE_PASSWORD,
  KAFKA_ERASER_PASSWORD: SECRETS_ENV.KAFKA_ERASER_PASSWORD,
};
