/**
 * A table's rows copied from PostgreSQL into ClickHouse without Kafka: what Debezium's
 * snapshot does, at the speed of COPY, while the connector keeps streaming.
 *
 * ClickHouse reads PostgreSQL itself, through its postgresql() table function (a COPY
 * of the pushed-down range, read and inserted inside the engine: no rows pass through
 * Node). The key span is cut into ranges, and `workers` ranges are copied at a time,
 * each one INSERT … SELECT into the table of clickhouse/0011_snapshot.sql.
 *
 * Ranges are not one snapshot of the table, and need not be: each row is copied as
 * some committed state after the connector's slot existed, and every later change of
 * it arrives through the stream with a higher version (0011_snapshot.sql says why that
 * is exact once the stream has caught up).
 */
import type pg from 'pg';
import type { ClickHouseClient } from '@clickhouse/client';

export interface SnapshotTable {
  /** Name on the command line. */
  name: string;
  /** PostgreSQL schema and table. */
  schema: string;
  table: string;
  /** Integer key the copy is split on (the primary key: ranges never overlap). */
  key: string;
  /** The SELECT list over postgresql(), in the target's column order, without the last (_snapshot_ts). */
  columns: string;
  /** ClickHouse table the rows go into; its last column is _snapshot_ts. */
  target: string;
}

export const TELEMETRY_EVENTS: SnapshotTable = {
  name: 'telemetry_events',
  schema: 'public',
  table: 'telemetry_events',
  key: 'id',
  columns:
    'id, event_uuid, user_id, prosthesis_type, muscle_group, signal_frequency, signal_duration, signal_amplitude, ' +
    'event_timestamp, saved_ts, request_id',
  target: 'debezium.telemetry_events_snapshot',
};

/** PostgreSQL as ClickHouse reaches it (host:port may differ from this process's view). */
export interface PgSource {
  hostPort: string;
  database: string;
  user: string;
  password: string;
}

export function pgSourceOf(url: string): PgSource {
  const u = new URL(url);
  return {
    hostPort: `${u.hostname}:${u.port || '5432'}`,
    database: decodeURIComponent(u.pathname.replace(/^\//, '')),
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
  };
}

export interface CopyOptions {
  workers: number;
  /** Key values per range (one INSERT … SELECT). */
  rangeKeys: number;
  /** Called once the ranges are known. */
  onPlan?: (ranges: number) => void;
  /** Called after each range lands, with its rows. */
  onRange?: (rows: number) => void;
  /** Checked between ranges: true stops the copy. */
  stopped?: () => boolean;
}

export interface CopyResult {
  rows: number;
  ranges: number;
  /** The key span at the start, inclusive; undefined for an empty table. */
  span?: { min: bigint; max: bigint };
}

export interface Range {
  lo: bigint;
  /** Exclusive. */
  hi: bigint;
}

/** [min, max] cut into ranges of `size` key values. */
export function rangesOf(min: bigint, max: bigint, size: number): Range[] {
  if (!Number.isInteger(size) || size < 1) throw new Error(`range size must be a positive integer, got ${size}`);
  const step = BigInt(size);
  const out: Range[] = [];
  for (let lo = min; lo <= max; lo += step) out.push({ lo, hi: lo + step > max ? max + 1n : lo + step });
  return out;
}

const literal = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

export function rangeInsert(table: SnapshotTable, source: PgSource, r: Range): string {
  const fn =
    `postgresql(${literal(source.hostPort)}, ${literal(source.database)}, ${literal(table.table)}, ` +
    `${literal(source.user)}, ${literal(source.password)}, ${literal(table.schema)})`;
  // now64 at the range's read: its rows' _source_ts, as Debezium stamps a snapshot read.
  return (
    `INSERT INTO ${table.target} SELECT ${table.columns}, now64(3) FROM ${fn} ` +
    `WHERE ${table.key} >= ${r.lo} AND ${table.key} < ${r.hi}`
  );
}

/**
 * An INSERT's written_rows counts the rows again for every materialized view they
 * pass through; the rows copied are that divided by 1 + the target's views.
 */
async function fanOut(ch: ClickHouseClient, target: string): Promise<number> {
  const [db, name] = target.split('.') as [string, string];
  const rs = await ch.query({
    query: 'SELECT length(dependencies_table) AS views FROM system.tables WHERE database = {db:String} AND name = {name:String}',
    query_params: { db, name },
    format: 'JSONEachRow',
  });
  const [row] = await rs.json<{ views: number | string }>();
  if (!row) throw new Error(`ClickHouse has no table ${target}: run npm run setup:clickhouse`);
  return 1 + Number(row.views);
}

export async function copyTable(
  pool: pg.Pool,
  ch: ClickHouseClient,
  table: SnapshotTable,
  source: PgSource,
  opts: CopyOptions,
): Promise<CopyResult> {
  const { rows } = await pool.query<{ min: string | null; max: string | null }>(
    `SELECT min(${table.key})::text AS min, max(${table.key})::text AS max FROM ${table.schema}.${table.table}`,
  );
  const { min, max } = rows[0]!;
  if (min === null || max === null) return { rows: 0, ranges: 0 };
  const span = { min: BigInt(min), max: BigInt(max) };
  const queue = rangesOf(span.min, span.max, opts.rangeKeys);
  const total = queue.length;
  const fan = await fanOut(ch, table.target);
  opts.onPlan?.(total);
  let copied = 0;
  let failure: unknown;
  const worker = async () => {
    for (let r = queue.shift(); r && failure === undefined && !opts.stopped?.(); r = queue.shift()) {
      try {
        const { summary } = await ch.command({ query: rangeInsert(table, source, r) });
        const n = Math.round(Number(summary?.written_rows ?? 0) / fan);
        copied += n;
        opts.onRange?.(n);
      } catch (err) {
        // The statement holds the password; an engine message may quote it back.
        const message = (err as Error).message.replaceAll(source.password, '***');
        failure ??= new Error(`range ${table.key} ∈ [${r.lo}, ${r.hi}) of ${table.schema}.${table.table}: ${message}`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.workers) }, worker));
  if (failure !== undefined) throw failure;
  if (queue.length > 0) throw new Error(`copy of ${table.name} stopped with ${queue.length} of ${total} ranges left`);
  return { rows: copied, ranges: total, span };
}
