/**
 * npm run snapshot -- [--table telemetry_events] [--workers N] [--range-pages N] [--replace] [--json]
 *
 * Copies a PostgreSQL table into ClickHouse in parallel ranges that ClickHouse reads
 * from PostgreSQL itself (scripts/snapshot/copy.ts), while the connector keeps
 * streaming: the initial load of a large table (the connector registered with
 * "snapshot.mode": "no_data"), or a re-snapshot of a table ClickHouse holds wrongly
 * (--replace empties ClickHouse's current state first). docs/snapshot.md.
 *
 * The connector's replication slot must exist before the copy starts: it is what
 * streams every change committed after a range was read (copy.ts says why that is exact).
 *
 * Exit codes: 0 copied, 1 failed (a rerun is safe: copied rows replace themselves),
 * 2 usage, 3 precondition (no slot).
 */
import { parseArgs } from 'node:util';
import pg from 'pg';
import cliProgress from 'cli-progress';
import { loadDotEnv, loadEndpoints, type Endpoints } from '@cdc/config';
import { createClickHouse } from '@cdc/clickhouse';
import { createKafka, kafkaAccess, withAdmin } from '@cdc/kafka';
import { groupCaughtUp } from '../lib/analytics-compare.js';
import { loadConnectorDefinitions } from '../lib/connectors.js';
import { backfillCopiedRows } from '@cdc/stream-processor/backfill';
import { copyTable, pgSourceOf, TELEMETRY_EVENTS, type SnapshotTable } from './copy.js';

const USAGE = `usage: npm run snapshot -- [options]

  --table NAME       table to copy (telemetry_events)
  --workers N        ranges copied at a time (default 2)
  --range-pages N    heap pages (8 KB) per range: one INSERT … SELECT FROM postgresql() (default 8192)
  --replace          empty ClickHouse's current state of the table first (a re-snapshot)
  --no-analytics     copy only: leave the copied rows out of analytics.* (the stream processor's views)
  --json             print the result as one JSON object
  --help             this text`;

const TABLES: Record<string, { table: SnapshotTable; connector: string; current: string }> = {
  telemetry_events: { table: TELEMETRY_EVENTS, connector: 'telemetry-connector', current: 'default.telemetry_events' },
};

class UsageError extends Error {}

function parse(argv: string[]) {
  let values;
  try {
    values = parseArgs({
      args: argv,
      options: {
        table: { type: 'string', default: 'telemetry_events' },
        workers: { type: 'string', default: '2' },
        'range-pages': { type: 'string', default: '8192' },
        replace: { type: 'boolean', default: false },
        'no-analytics': { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
    }).values;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const spec = TABLES[values.table];
  if (!spec) throw new UsageError(`--table: one of ${Object.keys(TABLES).join(', ')}`);
  const workers = Number(values.workers);
  const rangePages = Number(values['range-pages']);
  if (!Number.isInteger(workers) || workers < 1 || workers > 64) throw new UsageError('--workers: an integer from 1 to 64');
  if (!Number.isInteger(rangePages) || rangePages < 1) throw new UsageError('--range-pages: a positive integer');
  return { spec, workers, rangePages, replace: values.replace, analytics: !values['no-analytics'], json: values.json, help: values.help };
}

const USERS_GROUP = 'clickhouse-crm-users';
const USERS_TOPIC = 'crm.public.users';

/**
 * The copied rows are enriched from default.users; the processor, from the users topic.
 * A user already in the topic but not yet in default.users would leave its events
 * user-less, and the processor would not come back to them (it re-enriches the users
 * it saw unknown itself, and at start): so the backfill waits, up to a minute, for
 * ClickHouse's users consumer to reach the end of the topic.
 */
async function usersCaughtUp(env: Endpoints): Promise<boolean> {
  const kafka = createKafka({ ...kafkaAccess(env), logLevel: 'error' }, 'snapshot');
  return withAdmin(kafka, env.KAFKA_BROKERS, async (admin) => {
    const deadline = Date.now() + 60_000;
    while (!(await groupCaughtUp(admin, USERS_GROUP, USERS_TOPIC))) {
      if (Date.now() > deadline) return false;
      await new Promise((r) => setTimeout(r, 500));
    }
    return true;
  });
}

async function main(argv: string[]): Promise<number> {
  let opts: ReturnType<typeof parse>;
  try {
    opts = parse(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`error: ${err.message}\n\n${USAGE}\n`);
    return 2;
  }
  if (opts.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  loadDotEnv();
  const env = loadEndpoints();
  const slot = loadConnectorDefinitions().find((d) => d.name === opts.spec.connector)?.config['slot.name'];
  const pool = new pg.Pool({ connectionString: env.TELEMETRY_DATABASE_URL, max: 1 });
  const ch = createClickHouse(env, 'pipeline', { requestTimeoutMs: 600_000, application: 'snapshot', maxOpenConnections: opts.workers });
  try {
    const slots = await pool.query('SELECT 1 FROM pg_replication_slots WHERE slot_name = $1', [slot]);
    if (slots.rows.length === 0) {
      process.stderr.write(
        `error: replication slot ${slot ?? '?'} of ${opts.spec.connector} does not exist: register the connector first ` +
          '(npm run setup:connectors), or changes committed during the copy would be lost\n',
      );
      return 3;
    }
    if (opts.replace) await ch.command({ query: `TRUNCATE TABLE ${opts.spec.current}` });
    const bar = new cliProgress.SingleBar(
      { format: 'copying {bar} {value}/{total} ranges, {rows} rows', stream: process.stderr },
      cliProgress.Presets.shades_classic,
    );
    let copied = 0;
    const t0 = performance.now();
    const source = pgSourceOf(env.CLICKHOUSE_TELEMETRY_DATABASE_URL ?? env.TELEMETRY_DATABASE_URL);
    const result = await copyTable(pool, ch, opts.spec.table, source, {
      workers: opts.workers,
      rangePages: opts.rangePages,
      onPlan: (ranges) => bar.start(ranges, 0, { rows: copied }),
      onRange: (n) => bar.increment(1, { rows: (copied += n) }),
    });
    bar.stop();
    const seconds = (performance.now() - t0) / 1000;
    let analytics: { enriched: number; seconds: number } | undefined;
    if (opts.analytics) {
      if (!(await usersCaughtUp(env))) {
        process.stderr.write(
          `warning: ClickHouse's copy of the CRM users (group ${USERS_GROUP}) is behind ${USERS_TOPIC}: events of users it has not ` +
            'seen yet are stored user-less; `npm run stack:restart -- stream-processor` re-enriches them\n',
        );
      }
      process.stderr.write('building the analytics of the copied rows …\n');
      const a0 = performance.now();
      const { enriched } = await backfillCopiedRows(ch);
      analytics = { enriched, seconds: Number(((performance.now() - a0) / 1000).toFixed(3)) };
    }
    const summary = {
      table: opts.spec.table.name,
      rows: result.rows,
      ranges: result.ranges,
      seconds: Number(seconds.toFixed(3)),
      rowsPerSecond: Math.round(result.rows / seconds),
      replaced: opts.replace,
      analytics: analytics ?? null,
    };
    process.stdout.write(
      opts.json
        ? `${JSON.stringify(summary)}\n`
        : `copied ${summary.rows} rows of ${summary.table} in ${summary.ranges} ranges, ${summary.seconds} s (${summary.rowsPerSecond} rows/s)\n` +
            (analytics ? `enriched ${analytics.enriched} copied rows and recomputed their aggregates in ${analytics.seconds} s\n` : ''),
    );
    return 0;
  } finally {
    await pool.end();
    await ch.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`error: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
