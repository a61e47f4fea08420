import { Hono } from 'hono';
import { problem } from '@cdc/http/problem';
import type { SessionInfo } from './contract.js';
import type { Deps } from './deps.js';
import { ConsoleError, toProblem } from './errors.js';
import { connectRoutes } from './routes/connect.js';
import { kafkaRoutes } from './routes/kafka.js';
import { overviewRoutes } from './routes/overview.js';
import { schemaRoutes } from './routes/schemas.js';
import { sqlRoutes } from './routes/sql.js';
import { traceRoutes } from './routes/trace.js';
import { LagHistory } from './samplers/lag-history.js';
import { OverviewSampler } from './samplers/overview.js';
import { webRoutes } from './static.js';

export interface ConsoleApp {
  app: Hono;
  lag: LagHistory;
}

/** The console: its JSON API under /api, the built front end everywhere else. */
export function createConsoleApp(deps: Deps): ConsoleApp {
  const lag = new LagHistory(deps);
  const api = new Hono();
  const e = deps.config.endpoints;
  // Links the browser follows: the apps publish the same ports natively and in compose.
  const clickhousePort = new URL(e.CLICKHOUSE_URL).port || '8123';

  api.get('/session', (c) => {
    const info: SessionInfo = {
      writeEnabled: deps.config.token !== undefined,
      links: [
        { name: 'CRM API docs', url: `http://127.0.0.1:${e.CRM_API_PORT}/docs` },
        { name: 'Telemetry API docs', url: `http://127.0.0.1:${e.TELEMETRY_API_PORT}/docs` },
        { name: 'Stream processor /query docs', url: `http://127.0.0.1:${e.STREAM_PROCESSOR_PORT}/docs` },
        { name: 'ClickHouse Play', url: `http://127.0.0.1:${clickhousePort}/play` },
      ],
    };
    return c.json(info);
  });
  api.route('/', overviewRoutes(new OverviewSampler(deps)));
  api.route('/', kafkaRoutes(deps, lag));
  api.route('/', connectRoutes(deps));
  api.route('/', sqlRoutes(deps));
  api.route('/', traceRoutes(deps));
  api.route('/', schemaRoutes(deps));
  api.onError((err, c) => {
    if (!(err instanceof ConsoleError) || err.status >= 500) deps.log.warn({ err: err.message, path: c.req.path }, 'request failed');
    return toProblem(c, err);
  });

  const app = new Hono();
  app.get('/health', (c) => c.json({ status: 'ok', service: 'console' }));
  app.route('/api', api);
  // Before the front end's catch-all, which would answer an unknown API path with the page.
  app.all('/api/*', (c) => problem(c, { type: 'about:blank', title: 'Not found', status: 404, detail: `no API route ${c.req.method} ${c.req.path}` }));
  app.route('/', webRoutes(deps.config.webDir));
  return { app, lag };
}
