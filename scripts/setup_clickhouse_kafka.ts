/**
 * Applies the ClickHouse migrations of clickhouse/ (databases, current-state tables,
 * Kafka-engine tables, materialized views, freshness view) to CLICKHOUSE_URL — chDB's
 * HTTP server natively or a ClickHouse server. Safe to repeat.
 *
 *   npm run setup:clickhouse
 */
import { createClient } from '@clickhouse/client';
import { loadDotEnv, loadEndpoints } from '@cdc/config';
import { migrate } from './lib/clickhouse-migrations.js';

loadDotEnv();
const env = loadEndpoints();
const client = createClient({ url: env.CLICKHOUSE_URL, username: env.CLICKHOUSE_USER, password: env.CLICKHOUSE_PASSWORD });
try {
  const { applied, alreadyApplied } = await migrate(
    client,
    { KAFKA_BROKER_LIST: (env.CLICKHOUSE_KAFKA_BROKERS ?? env.KAFKA_BROKERS).join(',') },
    { log: (line) => console.log(line) },
  );
  console.log(`ClickHouse schema up to date: ${applied.length} applied now, ${alreadyApplied} before.`);
} catch (err) {
  console.error(`✘ ${(err as Error).message}`);
  process.exitCode = 1;
} finally {
  await client.close();
}
