import { readFileSync } from 'node:fs';
import type { ClickHouseClient } from '@clickhouse/client';
import { splitStatements } from '@cdc/clickhouse';
import { connect, startTestServer } from '../../chdb-server/test/support.js';

const migration = (file: string) => readFileSync(new URL(`../../../clickhouse/${file}`, import.meta.url), 'utf8');

/**
 * A chDB server of the test's own with the analytics tables as the migrations make
 * them: 0007, the analytics part of 0008 (the rest alters other databases), and 0011's
 * view unless `withView` is false (to write both enriched tables independently).
 */
export async function startAnalyticsServer({ withView = true } = {}): Promise<{ ch: ClickHouseClient; close(): Promise<void> }> {
  const server = await startTestServer();
  const ch = connect(server.url);
  const statements = [
    ...splitStatements(migration('0007_analytics.sql')),
    ...splitStatements(migration('0008_request_id.sql')).filter((s) => s.startsWith('ALTER TABLE analytics.')),
    ...(withView ? splitStatements(migration('0011_enriched_by_user_view.sql')) : []),
  ];
  for (const query of statements) await ch.command({ query });
  return {
    ch,
    async close() {
      await ch.close();
      await server.close();
    },
  };
}
