import { Readable } from 'node:stream';
import { Hono } from 'hono';
import { stream } from 'hono/streaming';
import { loadCookbook, QueryFailedError, QueryRejectedError, readOnlySettings, runReadOnlyQuery, validateQuery } from '@cdc/clickhouse';
import type { CookbookEntry, SqlRequest, SqlResult, SqlSchema } from '../contract.js';
import type { Deps } from '../deps.js';
import { ConsoleError } from '../errors.js';

/** Rows the page receives (more are cut off and flagged); the CSV download's cap. */
const PAGE_ROWS = 10_000;
const TIMEOUT_S = 60;
const CSV_ROWS = 1_000_000;
const QUERY_ID = /^[A-Za-z0-9_-]{8,64}$/;

function statement(sql: unknown): string {
  try {
    return validateQuery(typeof sql === 'string' ? sql : '');
  } catch (err) {
    if (err instanceof QueryRejectedError) throw new ConsoleError(400, err.message);
    throw err;
  }
}

/**
 * The SQL page's server side. Every query runs as the analyst user (read-only,
 * bounded by clickhouse/users.yaml) with a query id the page chose, so the page can
 * cancel it; the page sees at most 10,000 rows and gets the rest as CSV.
 */
export function sqlRoutes(deps: Deps): Hono {
  const app = new Hono();
  const cookbook: CookbookEntry[] = loadCookbook().map((r) => ({ name: `${r.number}_${r.slug}`, title: r.question, sql: r.sql }));

  app.post('/sql', async (c) => {
    const body = (await c.req.json().catch(() => ({}))) as Partial<SqlRequest>;
    const query = typeof body.query === 'string' ? body.query : '';
    const queryId = String(body.queryId ?? '');
    if (!QUERY_ID.test(queryId)) throw new ConsoleError(400, 'queryId: 8–64 letters, digits, "-" or "_" (a UUID will do)');
    let r;
    try {
      r = await runReadOnlyQuery(deps.analyst, query, { maxRows: PAGE_ROWS, timeoutS: TIMEOUT_S }, { queryId });
    } catch (err) {
      if (err instanceof QueryRejectedError) throw new ConsoleError(400, err.message, { cause: err });
      // With a ClickHouse error code it is the query's fault; without one, ClickHouse's.
      if (err instanceof QueryFailedError) throw err.code ? new ConsoleError(400, err.message, { cause: err }) : (err.cause as Error);
      throw err;
    }
    const result: SqlResult = {
      queryId,
      columns: r.columns,
      rows: r.rows,
      truncated: r.truncated,
      stats: { elapsedMs: r.elapsedMs, rows: r.rows.length, readRows: r.readRows, readBytes: r.readBytes },
    };
    return c.json(result);
  });

  app.post('/sql/:queryId/cancel', async (c) => {
    const queryId = c.req.param('queryId');
    if (!QUERY_ID.test(queryId)) throw new ConsoleError(400, 'not a query id');
    // As the analyst: a user may stop its own queries and no one else's. The id is a
    // literal (QUERY_ID allows no quote), the form every ClickHouse server recognises.
    await deps.analyst.command({ query: `KILL QUERY WHERE query_id = '${queryId}' ASYNC` });
    return c.json({ queryId, cancelled: true }, 202);
  });

  app.get('/sql/csv', async (c) => {
    const query = statement(c.req.query('query'));
    const rs = await deps.analyst.exec({
      query: `${query}\nFORMAT CSVWithNames`,
      // `limit` cuts the result at exactly CSV_ROWS; max_result_rows alone stops at a block boundary.
      clickhouse_settings: { ...readOnlySettings({ maxRows: CSV_ROWS, timeoutS: TIMEOUT_S }), limit: String(CSV_ROWS) },
    });
    c.header('content-type', 'text/csv; charset=utf-8');
    c.header('content-disposition', `attachment; filename="query-${new Date().toISOString().replace(/[:.]/g, '-')}.csv"`);
    return stream(c, async (out) => {
      out.onAbort(() => {
        rs.stream.destroy();
      });
      for await (const chunk of rs.stream as Readable) await out.write(chunk as Uint8Array);
    });
  });

  app.get('/sql/schema', async (c) => {
    const rs = await deps.analyst.query({
      query: `SELECT t.database AS db, t.name AS tbl, t.engine AS engine, c.name AS col, c.type AS type
                FROM system.tables AS t LEFT JOIN system.columns AS c ON c.database = t.database AND c.table = t.name
               WHERE t.database NOT IN ('system', 'INFORMATION_SCHEMA', 'information_schema')
               ORDER BY db, tbl, c.position`,
      format: 'JSONEachRow',
    });
    const rows = await rs.json<{ db: string; tbl: string; engine: string; col: string; type: string }>();
    const dbs = new Map<string, Map<string, { name: string; engine: string; columns: { name: string; type: string }[] }>>();
    for (const r of rows) {
      const tables = dbs.get(r.db) ?? dbs.set(r.db, new Map()).get(r.db)!;
      const t = tables.get(r.tbl) ?? tables.set(r.tbl, { name: r.tbl, engine: r.engine, columns: [] }).get(r.tbl)!;
      if (r.col) t.columns.push({ name: r.col, type: r.type });
    }
    const schema: SqlSchema = { databases: [...dbs].map(([name, tables]) => ({ name, tables: [...tables.values()] })) };
    return c.json(schema);
  });

  app.get('/sql/cookbook', (c) => c.json(cookbook));

  return app;
}
