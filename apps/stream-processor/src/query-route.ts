import type { ClickHouseClient } from '@clickhouse/client';
import type { Context, Hono } from 'hono';
import { z } from 'zod';
import { QueryFailedError, QueryRejectedError, runReadOnlyQuery } from '@cdc/clickhouse';

/**
 * GET /query?sql=…&max_rows=…&timeout_s=… and POST /query {"sql", "max_rows", "timeout_s"}:
 * one read-only SQL query over the analytics (the same core as `npm run sql`:
 * readonly=1, a server-side timeout and a row limit). Errors are problem+json:
 * 400 a query or limit refused before it ran, 422 ClickHouse refused or failed it,
 * 504 it ran out of time, 503 ClickHouse unreachable.
 */
const QueryRequest = z.strictObject({
  sql: z.string().min(1).max(100_000),
  max_rows: z.coerce.number().int().positive().optional(),
  timeout_s: z.coerce.number().positive().optional(),
});

// ClickHouse's TIMEOUT_EXCEEDED; unreachable shows up without a code.
const TIMEOUT_EXCEEDED = '159';

function problem(c: Context, status: 400 | 422 | 503 | 504, title: string, detail: string, errors?: unknown[]) {
  return c.body(JSON.stringify({ type: 'about:blank', title, status, detail, ...(errors ? { errors } : {}) }), status, {
    'content-type': 'application/problem+json',
  });
}

export function registerQueryRoute(app: Hono, ch: ClickHouseClient): void {
  const handle = async (c: Context, input: unknown) => {
    const parsed = QueryRequest.safeParse(input);
    if (!parsed.success) {
      return problem(
        c,
        400,
        'Invalid query request',
        'the request does not match { sql, max_rows?, timeout_s? }',
        parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
      );
    }
    const { sql, max_rows, timeout_s } = parsed.data;
    try {
      const r = await runReadOnlyQuery(ch, sql, { maxRows: max_rows, timeoutS: timeout_s });
      return c.json({ columns: r.columns, rows: r.rows, truncated: r.truncated, elapsed_ms: r.elapsedMs });
    } catch (err) {
      if (err instanceof QueryRejectedError) return problem(c, 400, 'Query refused', err.message);
      if (err instanceof QueryFailedError) {
        if (err.code === TIMEOUT_EXCEEDED) return problem(c, 504, 'Query timed out', err.message);
        if (err.code === undefined) return problem(c, 503, 'ClickHouse unavailable', err.message);
        return problem(c, 422, 'Query failed', err.message);
      }
      throw err;
    }
  };

  app.get('/query', (c) => handle(c, c.req.query()));
  app.post('/query', async (c) => {
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      return problem(c, 400, 'Not JSON', 'the body must be a JSON object { sql, max_rows?, timeout_s? }');
    }
    return handle(c, body);
  });
}
