/**
 * npm run snapshot -- [--table telemetry_events] [--workers N] [--range-keys N] [--replace] [--json]
 *
 * Copies a PostgreSQL table into ClickHouse in parallel ranges that ClickHouse reads
 * from PostgreSQL itself (scripts/snapshot/copy.ts), while the connector keeps
 * streaming: the initial load of a large table (the connector registered with
 * "snapshot.mode": "no_data"), or a re-snapshot of a table ClickHouse holds wrongly
 * (--replace empties ClickHouse's current state first). docs/snapshot.md.
 *
 * The connector's replication slot must exist before the copy starts: it is what
 * streams every change committed after the copy's snapshot (clickhouse/0011_snapshot.sql).
 *
 * Exit codes: 0 copied, 1 failed (a rerun is safe: copied rows replace themselves),
 * 2 usage, 3 precondition (no slot).
 */
import { parseArgs } from 'node:util';
import pg from 'pg';
import cliProgress from 'cli-progress';
import { loadDotEnv, loadEndpoints } from '@cdc/config';
import { createClickHouse } from '@cdc/clickhouse';
import { loadConnectorDefinitions } from '../lib/connectors.js';
import { backfillCopiedRows } from '@cdc/stream-processor/backfill';
import { copyTable, pgSourceOf, TELEMETRY_EVENTS, type SnapshotTable } from './copy.js';

const USAGE = `usage: npm run snapshot -- [options]

  --table NAME       table to copy (telemetry_events)
  --workers N        ranges copied at a time (default 2)
  --range-keys N     key values per range: one INSERT … SELECT FROM postgresql() (default 250000)
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
        'range-keys': { type: 'string', default: '250000' },
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
  const rangeKeys = Number(values['range-keys']);
  if (!Number.isInteger(workers) || workers < 1 || workers > 64) throw new UsageError('--workers: an integer from 1 to 64');
  if (!Number.isInteger(rangeKeys) || rangeKeys < 1) throw new UsageError('--range-keys: a positive integer');
  return { spec, workers, rangeKeys, replace: values.replace, analytics: !values['no-analytics'], json: values.json, help: values.help };
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
      rangeKeys: opts.rangeKeys,
      onPlan: (ranges) => bar.start(ranges, 0, { rows: copied }),
      onRange: (n) => bar.increment(1, { rows: (copied += n) }),
    });
    bar.stop();
    const seconds = (performance.now() - t0) / 1000;
    let analytics: { enriched: number; seconds: number } | undefined;
    if (opts.analytics) {
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
