import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

/**
 * What the analyst of clickhouse/users.yaml may read, as queries and the answer
 * each must get. grants.test.ts asks chdb-server; grants-engine.test.ts asks the
 * engine itself, running as a user with the same grants: the two agree, except
 * where chdb-server is stricter on purpose (`engine`).
 */
export const USERS_FILE = fileURLToPath(new URL('../../../clickhouse/users.yaml', import.meta.url));

/** The analyst's grant statements, as the users file gives them. */
export function analystGrants(): string[] {
  const doc = parse(readFileSync(USERS_FILE, 'utf8')) as { users: { analyst: { grants: { query: string[] } } } };
  return doc.users.analyst.grants.query;
}

/** The product's shapes (clickhouse/*.sql) without the Kafka tables, and a few rows. */
export const SCHEMA = [
  'CREATE DATABASE debezium',
  'CREATE DATABASE analytics',
  `CREATE TABLE default.users (id Int32, user_uuid UUID, name String, email String, age Nullable(Int16),
     gender LowCardinality(Nullable(String)), country LowCardinality(Nullable(String)), address Nullable(String),
     phone Nullable(String), registered_at DateTime64(6, 'UTC'), _lsn UInt64, _is_deleted UInt8,
     _source_ts DateTime64(3, 'UTC'), _kafka_ts DateTime64(3, 'UTC'), _ingested_at DateTime64(3, 'UTC') DEFAULT now64(3))
   ENGINE = ReplacingMergeTree(_lsn, _is_deleted) ORDER BY id`,
  `CREATE TABLE default.telemetry_events (id Int64, user_id Int32, muscle_group LowCardinality(String),
     signal_amplitude Float64, event_timestamp DateTime64(6, 'UTC'), _lsn UInt64, _is_deleted UInt8)
   ENGINE = ReplacingMergeTree(_lsn, _is_deleted) ORDER BY id`,
  `CREATE TABLE analytics.telemetry_enriched (event_uuid UUID, user_id Int32, country LowCardinality(Nullable(String)),
     age_band LowCardinality(Nullable(String)), signal_amplitude Float64, _version UInt64, _is_deleted UInt8)
   ENGINE = ReplacingMergeTree(_version, _is_deleted) ORDER BY event_uuid`,
  `CREATE TABLE debezium.kafka_errors (received_at DateTime64(3, 'UTC') DEFAULT now64(3), topic LowCardinality(String),
     partition UInt64, offset UInt64, kafka_key String, error String, raw_message String)
   ENGINE = MergeTree ORDER BY (topic, partition, offset)`,
  `CREATE TABLE debezium.users_join (id Int32, name String, email String, country Nullable(String), phone Nullable(String),
     _lsn UInt64, _is_deleted UInt8) ENGINE = Join(ANY, LEFT, id) SETTINGS join_any_take_last_row = 1`,
  `CREATE TABLE debezium.users_changes (op LowCardinality(String), id Int32, name String, email String, raw_message String)
   ENGINE = MergeTree ORDER BY id`,
  `CREATE VIEW debezium.freshness AS SELECT 'users' AS source_table, count() AS changes, max(_ingested_at) AS last_ingested_at
   FROM default.users`,
  `INSERT INTO default.users (id, user_uuid, name, email, age, gender, country, address, phone, registered_at, _lsn, _is_deleted, _source_ts) VALUES
     (1, generateUUIDv4(), 'Ann Example', 'ann@example.com', 35, 'f', 'DE', 'Hauptstr. 1', '+49 170 000', now64(6), 10, 0, now64(3)),
     (2, generateUUIDv4(), 'Bob Example', 'bob@example.com', 45, 'm', 'PL', NULL, NULL, now64(6), 11, 0, now64(3))`,
  `INSERT INTO default.telemetry_events VALUES (1, 1, 'biceps', 0.5, now64(6), 1, 0), (2, 2, 'triceps', 0.7, now64(6), 2, 0)`,
  `INSERT INTO analytics.telemetry_enriched VALUES (generateUUIDv4(), 1, 'DE', '30-39', 0.5, 1, 0)`,
  `INSERT INTO debezium.kafka_errors (topic, partition, offset, kafka_key, error, raw_message)
     VALUES ('crm.public.users', 0, 7, '{"id":1}', 'no after.email', '{"after":{"email":"ann@example.com"}}')`,
  `INSERT INTO debezium.users_join VALUES (1, 'Ann Example', 'ann@example.com', 'DE', '+49 170 000', 10, 0)`,
  `INSERT INTO debezium.users_changes VALUES ('c', 1, 'Ann Example', 'ann@example.com', '{"after":{"email":"ann@example.com"}}')`,
];

export type Outcome = 'allowed' | 'denied';

export interface Case {
  readonly sql: string;
  /** What chdb-server answers the analyst. */
  readonly server: Outcome;
  /** What the engine answers a user with these grants, where chdb-server is stricter. */
  readonly engine?: Outcome;
}

export const CASES: readonly Case[] = [
  // Contact columns, however they are reached.
  ...['name', 'email', 'phone', 'address'].map((c): Case => ({ sql: `SELECT id, ${c} FROM default.users`, server: 'denied' })),
  { sql: 'SELECT * FROM default.users', server: 'denied' },
  { sql: 'SELECT u.* FROM default.users AS u FINAL', server: 'denied' },
  { sql: 'SELECT id, email AS e FROM default.users', server: 'denied' },
  { sql: 'SELECT e FROM (SELECT email AS e FROM default.users)', server: 'denied' },
  { sql: 'WITH c AS (SELECT email FROM default.users) SELECT count() FROM c', server: 'denied' },
  { sql: 'WITH c AS (SELECT email FROM default.users) SELECT count() FROM c WHERE email != \'\'', server: 'denied' },
  { sql: 'SELECT (SELECT email FROM default.users WHERE id = 1) AS e', server: 'denied' },
  { sql: 'SELECT t.id, u.email FROM default.telemetry_events AS t JOIN default.users AS u ON u.id = t.user_id', server: 'denied' },
  { sql: 'SELECT id, email FROM default.telemetry_events AS t JOIN (SELECT id, email FROM default.users) AS u USING (id)', server: 'denied' },
  { sql: "SELECT 'x' AS v UNION ALL SELECT email FROM default.users", server: 'denied' },
  { sql: "SELECT arrayMap(x -> concat(x, email), ['a']) FROM default.users", server: 'denied' },
  { sql: "SELECT count() FROM default.users WHERE email = 'ann@example.com'", server: 'denied' },
  { sql: 'SELECT id FROM default.users ORDER BY phone', server: 'denied' },
  { sql: 'SELECT count() FROM default.users GROUP BY address', server: 'denied' },
  { sql: 'SELECT id FROM default.users PREWHERE email != \'\'', server: 'denied' },
  { sql: 'SELECT sum(id) OVER (PARTITION BY email) FROM default.users', server: 'denied' },
  { sql: 'SELECT id, COLUMNS(\'mail\') FROM default.users', server: 'denied' },
  { sql: "SELECT 1 WHERE (1, 'ann@example.com') IN (SELECT id, email FROM default.users)", server: 'denied' },
  { sql: "SELECT 1 WHERE 'x' IN default.users", server: 'denied' },
  // Subcolumns, named or through a function the engine rewrites to one (email.size).
  { sql: 'SELECT count() FROM default.users WHERE phone.null', server: 'denied' },
  { sql: 'SELECT count() FROM default.users WHERE phone IS NULL', server: 'denied' },
  { sql: 'SELECT length(email) FROM default.users', server: 'denied' },
  { sql: 'SELECT email.size FROM default.users', server: 'denied' },
  { sql: "SELECT count() FROM default.users WHERE name = ''", server: 'denied' },
  { sql: 'SELECT empty(address) FROM default.users', server: 'denied' },
  // The debezium side: raw change events and the Join table.
  { sql: 'SELECT raw_message FROM debezium.kafka_errors', server: 'denied' },
  { sql: 'SELECT * FROM debezium.kafka_errors', server: 'denied' },
  { sql: 'SELECT email FROM debezium.users_changes', server: 'denied' },
  { sql: 'SELECT count() FROM debezium.users_changes', server: 'denied' },
  { sql: 'SELECT email FROM debezium.users_join', server: 'denied' },
  { sql: "SELECT joinGet('debezium.users_join', 'email', toInt32(1))", server: 'denied' },
  { sql: "SELECT email FROM merge('default', '^users$')", server: 'denied' },
  // The engine checks what merge() reads table by table; chdb-server refuses merge() whole.
  { sql: "SELECT count() FROM merge('default', '^telemetry_events$')", server: 'denied', engine: 'allowed' },
  // Everything analytical.
  { sql: 'SELECT id, country, gender, age, _is_deleted, _lsn FROM default.users FINAL', server: 'allowed' },
  { sql: 'SELECT count() FROM default.users', server: 'allowed' },
  { sql: "SELECT count() FROM default.users WHERE country = 'DE' AND registered_at < now64(6)", server: 'allowed' },
  { sql: 'SELECT * EXCEPT (name, email, phone, address) FROM default.users', server: 'allowed' },
  { sql: 'SELECT _part FROM default.users', server: 'allowed' },
  { sql: 'SELECT u.id, count() FROM default.telemetry_events AS t JOIN default.users AS u ON u.id = t.user_id GROUP BY u.id', server: 'allowed' },
  { sql: 'SELECT country, age_band FROM analytics.telemetry_enriched FINAL', server: 'allowed' },
  { sql: 'SELECT * FROM default.telemetry_events', server: 'allowed' },
  { sql: 'SELECT source_table, changes FROM debezium.freshness', server: 'allowed' },
  { sql: "SELECT joinGet('debezium.users_join', 'country', user_id) FROM default.telemetry_events", server: 'allowed' },
  { sql: 'SELECT country FROM debezium.users_join', server: 'allowed' },
  { sql: 'SELECT topic, `offset`, error FROM debezium.kafka_errors', server: 'allowed' },
  { sql: 'SELECT count() FROM debezium.kafka_errors', server: 'allowed' },
  { sql: '(SELECT count() FROM default.users) UNION ALL (SELECT count() FROM default.telemetry_events)', server: 'allowed' },
  { sql: 'SELECT sum(number) FROM numbers(10)', server: 'allowed' },
  { sql: "SELECT * FROM values('a Int32', 1, 2)", server: 'allowed' },
];
