import { join } from 'node:path';
import { createClient } from '@clickhouse/client';
import { migrate } from '../lib/clickhouse-migrations.js';
import { applyConnector, ConnectClient, loadConnectorDefinitions } from '../lib/connectors.js';
import type { StackConfig } from './config.js';
import { run } from './proc.js';

/**
 * What must exist before the apps start, applied idempotently after the
 * infrastructure is healthy, in dependency order:
 * 1. the PostgreSQL schemas (Prisma migrations, both databases; the connectors need
 *    the tables and the heartbeat table);
 * 2. the ClickHouse schema (clickhouse/*.sql): its Kafka-engine tables start
 *    consuming the CDC topics, from the beginning for a new consumer group;
 * 3. the Debezium connectors (connectors/*.json), waited for until RUNNING; a new
 *    connector first snapshots the rows already in its table.
 * Each step is safe to repeat; `up` runs them every time.
 */
export async function provision(config: StackConfig, log: (line: string) => void): Promise<void> {
  const step = async (name: string, detail: string, fn: () => Promise<void>) => {
    const t0 = Date.now();
    await fn();
    log(`✔ applied  ${name.padEnd(18)} ${detail}  (${((Date.now() - t0) / 1000).toFixed(1)}s)`);
  };

  await step('migrations', 'crm_db, telemetry_db', async () => {
    await run('migrations', process.execPath, ['--import', 'tsx', join(config.root, 'scripts/prisma-db.ts'), 'deploy'], {
      cwd: config.root,
      env: {
        ...process.env,
        CRM_DATABASE_URL: config.env.CRM_DATABASE_URL,
        TELEMETRY_DATABASE_URL: config.env.TELEMETRY_DATABASE_URL,
        CHECKPOINT_DISABLE: '1',
      },
    });
  });

  await step('clickhouse schema', 'clickhouse/*.sql', async () => {
    const client = createClient({
      url: config.clickhouse.url.origin,
      username: config.env.CLICKHOUSE_USER,
      password: config.env.CLICKHOUSE_PASSWORD,
    });
    try {
      await migrate(client, {
        KAFKA_BROKER_LIST: (config.env.CLICKHOUSE_KAFKA_BROKERS ?? config.env.KAFKA_BROKERS).join(','),
      });
    } finally {
      await client.close();
    }
  });

  const connect = new ConnectClient(config.connect.url);
  const definitions = loadConnectorDefinitions();
  await step('connectors', definitions.map((d) => d.name).join(', '), async () => {
    for (const def of definitions) await applyConnector(connect, def);
  });
}
