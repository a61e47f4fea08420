import { ClickHouseError, type ClickHouseClient, type ClickHouseSettings, type ResponseJSON } from '@clickhouse/client';
import { stringify } from 'csv-stringify/sync';
import { splitStatements } from './statements.js';

/**
 * One ad-hoc, read-only analytics query: the shared core of `npm run sql` and of the
 * stream processor's GET/POST /query. Safety comes from ClickHouse itself, per query:
 *
 *   readonly = 1               reads only, and the query cannot change any setting
 *                              (so a `SETTINGS max_result_rows = …` clause is refused too)
 *   max_execution_time         the server aborts the query (TIMEOUT_EXCEEDED)
 *   max_result_rows = N + 1,   the server stops producing rows once more than N exist;
 *   result_overflow_mode=break it stops at a block boundary (chDB returned 65 409 rows for
 *                              a limit of 10), so the rows are cut to N here, and one row
 *                              beyond N is how we know the result was cut.
 *
 * The text checks below are not the security boundary; they catch what the settings
 * do not: several statements (chDB runs them all, a server refuses), a FORMAT clause
 * (the caller picks the output format) and INTO OUTFILE, which chDB — an embedded
 * clickhouse-local — executes by writing a file on the server even under readonly=1.
 */

export interface QueryLimits {
  /** Rows returned at most; more are cut off and `truncated` is set. */
  maxRows: number;
  /** Seconds the server may spend on the query. */
  timeoutS: number;
}

export const DEFAULT_LIMITS: Readonly<QueryLimits> = { maxRows: 1000, timeoutS: 30 };
/** Upper bounds, so a caller cannot ask for a result that exhausts this process. */
export const MAX_LIMITS: Readonly<QueryLimits> = { maxRows: 100_000, timeoutS: 600 };

export interface Column {
  name: string;
  type: string;
}

export interface QueryResult {
  columns: Column[];
  /** One array per row, in column order, values as ClickHouse's JSON gives them (64-bit integers as strings). */
  rows: unknown[][];
  /** True when the query had more than maxRows rows and the rest were dropped. */
  truncated: boolean;
  elapsedMs: number;
  /** What ClickHouse read for it (its JSON statistics). */
  readRows: number;
  readBytes: number;
}

/** The query or a limit is unacceptable before it reaches ClickHouse (a caller's mistake: exit 2, HTTP 400). */
export class QueryRejectedError extends Error {
  override name = 'QueryRejectedError';
}

/** ClickHouse refused or failed the query; carries its code and message (exit 1, HTTP 400/422/504…). */
export class QueryFailedError extends Error {
  override name = 'QueryFailedError';
  constructor(
    message: string,
    readonly code: string | undefined,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Replaces the insides of strings, quoted identifiers and comments with spaces, keeping offsets. */
export function maskLiterals(sql: string): string {
  let out = '';
  let i = 0;
  while (i < sql.length) {
    const c = sql[i]!;
    let end: number;
    if ((c === '-' && sql[i + 1] === '-') || c === '#') {
      end = sql.indexOf('\n', i);
      if (end === -1) end = sql.length;
    } else if (c === '/' && sql[i + 1] === '*') {
      end = sql.indexOf('*/', i + 2);
      end = end === -1 ? sql.length : end + 2;
    } else if (c === "'" || c === '"' || c === '`') {
      end = i + 1;
      while (end < sql.length && sql[end] !== c) end += sql[end] === '\\' ? 2 : 1;
      end = Math.min(end + 1, sql.length);
    } else {
      out += c;
      i++;
      continue;
    }
    out += ' '.repeat(end - i);
    i = end;
  }
  return out;
}

/** The one statement to run, without a trailing semicolon; throws QueryRejectedError otherwise. */
export function validateQuery(sql: string): string {
  const statements = splitStatements(sql);
  if (statements.length === 0) throw new QueryRejectedError('the query is empty');
  if (statements.length > 1) {
    throw new QueryRejectedError(`one statement per query, got ${statements.length} (separated by ';')`);
  }
  const statement = statements[0]!;
  const code = maskLiterals(statement);
  if (/\bINTO\s+OUTFILE\b/i.test(code)) {
    throw new QueryRejectedError('INTO OUTFILE is not allowed: it writes a file on the ClickHouse host');
  }
  if (/\bFORMAT\s+[A-Za-z_]\w*\s*(\bSETTINGS\b[\s\S]*)?$/i.test(code)) {
    throw new QueryRejectedError('remove the FORMAT clause: the output format is chosen by the caller (--format)');
  }
  return statement;
}

export function validateLimits(limits: Partial<QueryLimits>): QueryLimits {
  const maxRows = limits.maxRows ?? DEFAULT_LIMITS.maxRows;
  const timeoutS = limits.timeoutS ?? DEFAULT_LIMITS.timeoutS;
  if (!Number.isInteger(maxRows) || maxRows < 1 || maxRows > MAX_LIMITS.maxRows) {
    throw new QueryRejectedError(`max rows must be an integer from 1 to ${MAX_LIMITS.maxRows}, got ${maxRows}`);
  }
  if (!Number.isFinite(timeoutS) || timeoutS <= 0 || timeoutS > MAX_LIMITS.timeoutS) {
    throw new QueryRejectedError(`timeout must be more than 0 and at most ${MAX_LIMITS.timeoutS} seconds, got ${timeoutS}`);
  }
  return { maxRows, timeoutS };
}

/** The per-query settings that make a query read-only and bounded. `readonly` is applied last by the server. */
export function readOnlySettings(limits: QueryLimits): ClickHouseSettings {
  return {
    max_execution_time: limits.timeoutS,
    timeout_overflow_mode: 'throw',
    max_result_rows: String(limits.maxRows + 1),
    result_overflow_mode: 'break',
    readonly: '1',
  };
}

/**
 * @param queryId set by a caller that may want to stop the query (KILL QUERY WHERE
 *   query_id = …) while it runs.
 */
export async function runReadOnlyQuery(
  client: ClickHouseClient,
  sql: string,
  options: Partial<QueryLimits> = {},
  { queryId }: { queryId?: string } = {},
): Promise<QueryResult> {
  const statement = validateQuery(sql);
  const limits = validateLimits(options);
  const t0 = performance.now();
  let body: ResponseJSON<unknown[]>;
  try {
    const rs = await client.query({
      query: statement,
      format: 'JSONCompact',
      clickhouse_settings: readOnlySettings(limits),
      ...(queryId !== undefined && { query_id: queryId }),
    });
    body = await rs.json<unknown[]>();
  } catch (err) {
    if (err instanceof ClickHouseError) {
      throw new QueryFailedError(`ClickHouse error ${err.code}: ${err.message.trim()}`, err.code, { cause: err });
    }
    throw new QueryFailedError(`query failed: ${(err as Error).message}`, undefined, { cause: err });
  }
  return {
    columns: (body.meta ?? []).map(({ name, type }) => ({ name, type })),
    rows: body.data.slice(0, limits.maxRows),
    truncated: body.data.length > limits.maxRows,
    elapsedMs: Math.round(performance.now() - t0),
    readRows: Number(body.statistics?.rows_read ?? 0),
    readBytes: Number(body.statistics?.bytes_read ?? 0),
  };
}

// ---- output ----

export const FORMATS = ['table', 'json', 'csv'] as const;
export type OutputFormat = (typeof FORMATS)[number];

function cellText(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return JSON.stringify(value);
}

const NUMERIC = /^(LowCardinality\()?(Nullable\()?(U?Int\d+|Float\d+|Decimal)/;

/** An aligned text table (numbers right-aligned), like clickhouse-client's PrettyCompact without the boxes. */
export function formatTable(result: Pick<QueryResult, 'columns' | 'rows'>): string {
  const header = result.columns.map((c) => c.name);
  const cells = result.rows.map((row) => row.map(cellText).map((s) => s.replace(/\n/g, '\\n')));
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i]!.length)));
  const right = result.columns.map((c) => NUMERIC.test(c.type));
  const line = (values: string[]) =>
    values
      .map((v, i) => (right[i] ? v.padStart(widths[i]!) : v.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n') + '\n';
}

export function formatResult(result: Omit<QueryResult, 'readRows' | 'readBytes'>, format: OutputFormat): string {
  switch (format) {
    case 'table':
      return formatTable(result);
    case 'json':
      return (
        JSON.stringify(
          result.rows.map((row) => Object.fromEntries(result.columns.map((c, i) => [c.name, row[i]]))),
          null,
          2,
        ) + '\n'
      );
    case 'csv':
      // NULL as an empty field, arrays/maps/tuples as JSON text.
      return stringify([
        result.columns.map((c) => c.name),
        ...result.rows.map((row) => row.map((v) => (v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : v))),
      ]);
  }
}

/** The line that tells a person how many rows came back and whether the limit cut them. */
export function summaryLine(result: Omit<QueryResult, 'readRows' | 'readBytes'>, maxRows: number): string {
  const n = result.rows.length;
  const rows = `${n} row${n === 1 ? '' : 's'}`;
  return result.truncated
    ? `${rows} in ${result.elapsedMs} ms — TRUNCATED: the result has more than ${maxRows} rows (raise --max-rows or add LIMIT/aggregation)`
    : `${rows} in ${result.elapsedMs} ms`;
}
