import type { ClickHouseClient } from '@clickhouse/client';
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context, Hono } from 'hono';
import { z } from 'zod';
import { DEFAULT_LIMITS, MAX_LIMITS, QueryFailedError, QueryRejectedError, runReadOnlyQuery } from '@cdc/clickhouse';
import { requires } from '@cdc/http';

/**
 * GET /query?sql=…&max_rows=…&timeout_s=… and POST /query {"sql", "max_rows", "timeout_s"}:
 * one read-only SQL query over the analytics (the same core as `npm run sql`:
 * readonly=1, a server-side timeout and a row limit). Errors are problem+json:
 * 400 a query or limit refused before it ran, 422 ClickHouse refused or failed it,
 * 504 it ran out of time, 503 ClickHouse unreachable.
 */
// The descriptions are documentation only (/openapi.json); they change no validation.
const QueryRequest = z.strictObject({
  sql: z
    .string()
    .min(1)
    .max(100_000)
    .meta({ description: 'One read-only statement (SELECT, SHOW, DESCRIBE, EXPLAIN…), at most 100 000 characters; no FORMAT clause, no INTO OUTFILE, one statement (a trailing `;` is fine)', example: 'SELECT count() FROM analytics.telemetry_enriched' }),
  max_rows: z.coerce
    .number()
    .int()
    .positive()
    .optional()
    .meta({ description: `Rows returned at most, 1 to ${MAX_LIMITS.maxRows} (default ${DEFAULT_LIMITS.maxRows}); more are cut off and \`truncated\` is true. Above ${MAX_LIMITS.maxRows}: 400 "Query refused"`, example: 100 }),
  timeout_s: z.coerce
    .number()
    .positive()
    .optional()
    .meta({ description: `Seconds ClickHouse may run the query (max_execution_time), more than 0 and at most ${MAX_LIMITS.timeoutS} (default ${DEFAULT_LIMITS.timeoutS}); past it: 504. Above ${MAX_LIMITS.timeoutS}: 400 "Query refused"`, example: 10 }),
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

// ---- /openapi.json ----

const QueryResult = z
  .object({
    columns: z.array(z.object({ name: z.string(), type: z.string().meta({ example: 'UInt64' }) })).meta({ description: 'Name and ClickHouse type of each column, in order' }),
    rows: z
      .array(z.array(z.unknown()))
      .meta({ description: "One array per row, values in column order as ClickHouse's JSONCompact gives them (64-bit integers as strings)", example: [['42']] }),
    truncated: z.boolean().meta({ description: 'True when the result had more than max_rows rows and the rest were dropped' }),
    elapsed_ms: z.int().meta({ description: 'Time spent in ClickHouse and reading the result, ms' }),
  })
  .meta({ id: 'QueryResult' });

/** The body problem() above sends: no instance and no request id, unlike the APIs' Problem. */
const QueryProblem = z
  .object({
    type: z.literal('about:blank'),
    title: z.string().meta({ example: 'Invalid query request' }),
    status: z.int().meta({ example: 400 }),
    detail: z.string().meta({ example: 'the request does not match { sql, max_rows?, timeout_s? }' }),
    errors: z
      .array(z.object({ path: z.string().meta({ example: 'sql' }), message: z.string() }))
      .optional()
      .meta({ description: 'Only with "Invalid query request": every parameter or body field that failed validation' }),
  })
  .meta({ id: 'QueryProblem' });

const problemContent = { 'application/problem+json': { schema: QueryProblem } };

/** The POST body: QueryRequest itself, named for components/schemas (ids are registered once, so at module level). */
const QueryRequestBody = QueryRequest.meta({ id: 'QueryRequest' });

const invalid =
  '**Invalid query request** — the input does not match `{ sql, max_rows?, timeout_s? }` (missing or empty `sql`, ' +
  '`max_rows` not a positive integer, `timeout_s` not a positive number, an unknown field); `errors` lists every issue. ' +
  '**Query refused** — refused before it reached ClickHouse: more than one statement, a FORMAT clause, INTO OUTFILE, ' +
  `no statement at all, max_rows above ${MAX_LIMITS.maxRows}, timeout_s above ${MAX_LIMITS.timeoutS}.`;

function queryResponses(bad400: string) {
  return {
    200: { description: 'The result (at most max_rows rows)', content: { 'application/json': { schema: QueryResult } } },
    400: { description: bad400, content: problemContent },
    401: { description: 'No valid API key (WWW-Authenticate: Bearer)', content: problemContent },
    403: { description: 'The key lacks analytics:read', content: problemContent },
    429: { description: 'The key is over its requests per second; retry after Retry-After', content: problemContent },
    422: {
      description: '**Query failed** — ClickHouse refused or failed the query: a syntax error, an unknown table or column, a write (the query runs with readonly=1), a setting change, a resource limit. `detail` carries "ClickHouse error <code>: <message>"',
      content: problemContent,
    },
    503: {
      description:
        "**ClickHouse unavailable** — or the key store (telemetry_db) cannot be read to check the key. The query failed without a ClickHouse error code: ClickHouse is unreachable, or the processor's HTTP client gave up (its request timeout is 30 s, so a query allowed a longer timeout_s that runs past 30 s ends here, not in 504)",
      content: problemContent,
    },
    504: { description: '**Query timed out** — ClickHouse stopped the query at timeout_s (TIMEOUT_EXCEEDED, code 159)', content: problemContent },
    500: { description: 'An unexpected failure outside the query itself (plain text "Internal Server Error")', content: { 'text/plain': { schema: z.string() } } },
  };
}

const summary = 'One read-only SQL query over the analytics in ClickHouse';
const description =
  'Runs as the read-only analyst user with readonly=1, a server-side timeout and a row limit (the same core as `npm run sql`). ' +
  'Errors are application/problem+json.';

/** Adds GET and POST /query to the app's /openapi.json (documentation only; the handlers are registerQueryRoute's). */
export function documentQueryRoute(app: Pick<OpenAPIHono, 'openAPIRegistry'>): void {
  app.openAPIRegistry.registerPath({
    method: 'get',
    path: '/query',
    tags: ['query'],
    summary,
    ...requires('analytics:read'),
    description: `${description} Parameters are query-string parameters; a repeated one counts once (its first value); any other parameter is refused (400).`,
    request: { query: QueryRequest },
    responses: queryResponses(invalid),
  });
  app.openAPIRegistry.registerPath({
    method: 'post',
    path: '/query',
    tags: ['query'],
    summary,
    ...requires('analytics:read'),
    description: `${description} The body is read as JSON whatever its Content-Type; max_rows and timeout_s may also be numeric strings.`,
    request: {
      body: { required: true, content: { 'application/json': { schema: QueryRequestBody } } },
    },
    responses: queryResponses(`**Not JSON** — the body is not JSON (or empty). ${invalid}`),
  });
}
