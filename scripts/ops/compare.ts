/**
 * npm run ops:compare [-- --wait-s S] [--no-analytics] [--json]
 *
 * Is ClickHouse what PostgreSQL says it should be? Every row and value of crm_db.users
 * and telemetry_db.telemetry_events against default.users / default.telemetry_events
 * FINAL (scripts/lib/cdc-compare.ts), and the stream processor's views against a
 * recomputation over default.telemetry_events (scripts/lib/analytics-compare.ts).
 * Compares until equal or --wait-s (default 0: once). The check after every restore in
 * docs/backup-restore.md. Exit 0 equal, 1 different (or failed), 2 usage.
 */
import { parseArgs } from 'node:util';
import pg from 'pg';
import { createClient } from '@clickhouse/client';
import { loadDotEnv, loadEndpoints } from '@cdc/config';
import { describeDiff, diffTable, isEqual, TELEMETRY_EVENTS, USERS, type TableDiff } from '../lib/cdc-compare.js';
import { analyticsEqual, diffAnalytics, type AnalyticsDiff } from '../lib/analytics-compare.js';

async function main(): Promise<number> {
  loadDotEnv();
  let values;
  try {
    values = parseArgs({ options: { 'wait-s': { type: 'string' }, 'no-analytics': { type: 'boolean' }, json: { type: 'boolean' } } }).values;
  } catch (err) {
    console.error(`${(err as Error).message}\nusage: npm run ops:compare -- [--wait-s S] [--no-analytics] [--json]`);
    return 2;
  }
  const waitS = Number(values['wait-s'] ?? 0);
  if (!Number.isFinite(waitS) || waitS < 0) {
    console.error('--wait-s: a number of seconds ≥ 0');
    return 2;
  }
  const env = loadEndpoints();
  const crm = new pg.Pool({ connectionString: env.CRM_DATABASE_URL, max: 1 });
  const telemetry = new pg.Pool({ connectionString: env.TELEMETRY_DATABASE_URL, max: 1 });
  const ch = createClient({ url: env.CLICKHOUSE_URL, username: env.CLICKHOUSE_USER, password: env.CLICKHOUSE_PASSWORD });
  const t0 = Date.now();
  try {
    for (;;) {
      const tables: TableDiff[] = [await diffTable(USERS, crm, ch), await diffTable(TELEMETRY_EVENTS, telemetry, ch)];
      const analytics: AnalyticsDiff | undefined = values['no-analytics'] ? undefined : await diffAnalytics(ch);
      const equal = tables.every(isEqual) && (analytics === undefined || analyticsEqual(analytics));
      if (equal || Date.now() - t0 > waitS * 1000) {
        const seconds = (Date.now() - t0) / 1000;
        if (values.json) {
          console.log(JSON.stringify({ equal, seconds, tables, analytics }));
        } else {
          for (const d of tables) console.log(`${isEqual(d) ? '=' : '≠'} ${describeDiff(d)}`);
          if (analytics) {
            console.log(
              `${analyticsEqual(analytics) ? '=' : '≠'} analytics views vs recomputation: enriched ${JSON.stringify(analytics.enriched)}, ` +
                `by_minute ${analytics.byMinuteDifferent} of ${analytics.byMinuteKeys} keys different, user_activity ${analytics.userActivityDifferent} different`,
            );
          }
          console.log(equal ? `equal (${seconds.toFixed(1)} s)` : `DIFFERENT after ${seconds.toFixed(1)} s`);
        }
        return equal ? 0 : 1;
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  } finally {
    await Promise.all([crm.end(), telemetry.end(), ch.close()]);
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`✘ ${(err as Error).message}`);
    process.exit(1);
  },
);
