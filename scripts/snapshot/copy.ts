/**
 * A table's rows copied from PostgreSQL into ClickHouse without Kafka: what Debezium's
 * snapshot does, at the speed of COPY, while the connector keeps streaming.
 *
 * ClickHouse reads PostgreSQL itself, through its postgresql() table function (a
 * `COPY (SELECT …) TO STDOUT` read and inserted inside the engine: no rows pass
 * through Node). The table's heap is cut into ranges of pages, each read by a TID
 * range scan (`WHERE ctid >= '(lo,0)' AND ctid < '(hi,0)'`): sequential reads of its
 * own pages, no index, and no parallel plan (a key range made PostgreSQL start two
 * parallel workers per range, on a machine that had two cores for everything).
 * `workers` ranges are copied at a time, each one INSERT … SELECT straight into the
 * current-state table.
 *
 * A copied row is stored with _lsn = 0, below every streamed change (each carries its
 * source.lsn, always above 0), so the copy may run while the connector streams: a
 * change committed after a range was read arrives with a higher version and wins; one
 * committed before it but delivered after it carries an older state and wins only
 * until the row's later changes arrive, the last of which is the state the copy saw
 * or a newer one. Exact once the stream has caught up, provided the connector's slot
 * existed before the copy started (docs/snapshot.md).
 *
 * Ranges are not one snapshot of the table, and need not be: each row is copied as
 * some committed state after the slot existed; one the copy saw twice (an update moved
 * it to a later page) or missed (moved to an earlier one) was changed after the slot
 * existed, and that change arrives through the stream.
 */
import type pg from 'pg';
import type { ClickHouseClient } from '@clickhouse/client';

export interface SnapshotTable {
  /** Name on the command line. */
  name: string;
  /** PostgreSQL schema and table. */
  schema: string;
  table: string;
  /**
   * The SELECT list PostgreSQL runs, the one ClickHouse runs over its result, and the
   * target's columns they fill, in the same order. Timestamps travel as UTC wall time
   * (`AT TIME ZONE 'UTC'`), which the insert reads in session_timezone UTC: exact,
   * whatever either server's own time zone.
   */
  pgColumns: string;
  chColumns: string;
  targetColumns: string;
  /** ClickHouse table the rows go into. */
  target: string;
}

export const TELEMETRY_EVENTS: SnapshotTable = {
  name: 'telemetry_events',
  schema: 'public',
  table: 'telemetry_events',
  pgColumns:
    'id, event_uuid, user_id, prosthesis_type, muscle_group, signal_frequency, signal_duration, signal_amplitude, ' +
    "event_timestamp AT TIME ZONE 'UTC' AS event_timestamp, saved_ts AT TIME ZONE 'UTC' AS saved_ts, request_id",
  chColumns:
    'id, event_uuid, user_id, prosthesis_type, muscle_group, signal_frequency, signal_duration, signal_amplitude, ' +
    // now64 at the range's read: the rows' _source_ts, as Debezium stamps a snapshot read.
    'event_timestamp, saved_ts, request_id, toUInt64(0), toUInt8(0), now64(3)',
  targetColumns:
    'id, event_uuid, user_id, prosthesis_type, muscle_group, signal_frequency, signal_duration, signal_amplitude, ' +
    'event_timestamp, saved_ts, request_id, _lsn, _is_deleted, _source_ts',
  target: 'default.telemetry_events',
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
  /** Heap pages per range (one INSERT … SELECT); 8 KB each. */
  rangePages: number;
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
}

/** Heap pages [lo, hi). */
export interface Range {
  lo: number;
  hi: number;
}

/**
 * [0, pages) cut into ranges of `size` pages. The last range has no end: pages added
 * while the copy runs hold rows inserted after the slot existed, which the stream
 * brings anyway; reading them too costs nothing in exactness.
 */
export function rangesOf(pages: number, size: number): Range[] {
  if (!Number.isInteger(size) || size < 1) throw new Error(`range size must be a positive integer, got ${size}`);
  const out: Range[] = [];
  for (let lo = 0; lo < Math.max(pages, 1); lo += size) out.push({ lo, hi: lo + size });
  out[out.length - 1]!.hi = Number.POSITIVE_INFINITY;
  return out;
}

const INSERT_SETTINGS = {
  // The timestamps arrive as UTC wall time (see SnapshotTable).
  session_timezone: 'UTC',
  // A range never holds two versions of one id, so collapsing the block on insert is
  // work for nothing (a row read twice by two ranges meets its twin at merge time, and
  // its change from the stream outranks both): 6–16 % more rows/s without it.
  optimize_on_insert: 0,
} as const;

const literal = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

export function rangeInsert(table: SnapshotTable, source: PgSource, r: Range): string {
  const upper = Number.isFinite(r.hi) ? ` AND ctid < '(${r.hi},0)'::tid` : '';
  const pgQuery = `SELECT ${table.pgColumns} FROM ${table.schema}.${table.table} WHERE ctid >= '(${r.lo},0)'::tid${upper}`;
  const fn =
    `postgresql(${literal(source.hostPort)}, ${literal(source.database)}, query(${literal(pgQuery)}), ` +
    `${literal(source.user)}, ${literal(source.password)})`;
  return `INSERT INTO ${table.target} (${table.targetColumns}) SELECT ${table.chColumns} FROM ${fn}`;
}

export async function copyTable(
  pool: pg.Pool,
  ch: ClickHouseClient,
  table: SnapshotTable,
  source: PgSource,
  opts: CopyOptions,
): Promise<CopyResult> {
  const { rows } = await pool.query<{ pages: string }>(
    `SELECT (pg_relation_size($1::regclass) / current_setting('block_size')::int)::text AS pages`,
    [`${table.schema}.${table.table}`],
  );
  const pages = Number(rows[0]!.pages);
  const queue = rangesOf(pages, opts.rangePages);
  const total = queue.length;
  opts.onPlan?.(total);
  let copied = 0;
  let failure: unknown;
  const worker = async () => {
    for (let r = queue.shift(); r && failure === undefined && !opts.stopped?.(); r = queue.shift()) {
      try {
        const { summary } = await ch.command({ query: rangeInsert(table, source, r), clickhouse_settings: INSERT_SETTINGS });
        // written_rows counts the rows again for every view they pass through; the
        // targets have none (a view on one would make this count a multiple).
        const n = Number(summary?.written_rows ?? 0);
        copied += n;
        opts.onRange?.(n);
      } catch (err) {
        // The statement holds the password; an engine message may quote it back.
        const message = (err as Error).message.replaceAll(source.password, '***');
        failure ??= new Error(`pages [${r.lo}, ${r.hi}) of ${table.schema}.${table.table}: ${message}`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.workers) }, worker));
  if (failure !== undefined) throw failure;
  if (queue.length > 0) throw new Error(`copy of ${table.name} stopped with ${queue.length} of ${total} ranges left`);
  return { rows: copied, ranges: total };
}
