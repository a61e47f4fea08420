import { Hono } from 'hono';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { checkSlots, poolSlotSource, type Report } from '@cdc/db/slots';
import type { ConnectorStatus } from '@cdc/connect';
import type { ConnectorAction, ConnectorView, SlotsView } from '../contract.js';
import type { Deps } from '../deps.js';
import { ConsoleError } from '../errors.js';

const ACTIONS: Record<ConnectorAction, (deps: Deps, name: string) => Promise<void>> = {
  pause: (d, n) => d.connect.pause(n),
  resume: (d, n) => d.connect.resume(n),
  restart: (d, n) => d.connect.restartWith(n, { onlyFailed: false }),
  'restart-failed': (d, n) => d.connect.restartWith(n, { onlyFailed: true }),
};

export function toView(s: ConnectorStatus): ConnectorView {
  return {
    name: s.name,
    type: s.type ?? '',
    state: s.connector.state,
    workerId: s.connector.worker_id ?? null,
    trace: s.connector.trace ?? null,
    tasks: s.tasks.map((t) => ({ id: t.id, state: t.state, workerId: t.worker_id ?? null, trace: t.trace ?? null })),
  };
}

/**
 * Connectors with their tasks, the actions on them, and both databases' replication
 * slots. Reading is open; an action changes the pipeline and needs the console's token.
 */
export function connectRoutes(deps: Deps): Hono {
  const app = new Hono();

  app.get('/connectors', async (c) => c.json((await deps.connect.statuses()).map(toView)));

  app.post('/connectors/:name/:action', requireToken(deps), async (c) => {
    const name = c.req.param('name');
    const action = c.req.param('action') as ConnectorAction;
    if (!(action in ACTIONS)) throw new ConsoleError(404, `no action "${action}"; one of ${Object.keys(ACTIONS).join(', ')}`);
    if ((await deps.connect.status(name)) === undefined) throw new ConsoleError(404, `no connector ${name}`);
    await ACTIONS[action](deps, name);
    deps.log.info({ connector: name, action }, 'connector action');
    const status = await deps.connect.status(name);
    return c.json({ status: status ? toView(status) : null }, 202);
  });

  app.get('/slots', async (c) => {
    const report = await slotReport(deps);
    const body: SlotsView = {
      maxRetainedBytes: report.maxRetainedBytes,
      slots: report.slots.map((s) => ({
        database: s.source,
        slot: s.slot,
        plugin: s.plugin,
        active: s.active,
        walStatus: s.walStatus,
        confirmedFlushLsn: s.confirmedFlushLsn,
        retainedBytes: s.retainedBytes,
        behindBytes: s.confirmLagBytes,
        alerts: s.problems,
      })),
      errors: report.errors.map((x) => ({ database: x.source, error: x.error })),
    };
    return c.json(body);
  });

  return app;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** `Authorization: Bearer <CONSOLE_TOKEN>`, compared in constant time; 403 when no token is configured. */
/** Both databases' slots through the console's own pools (the Overview reads them every 2 s). */
export function slotReport(deps: Deps): Promise<Report> {
  const names = (url: string) => new URL(url).pathname.replace(/^\//, '');
  const e = deps.config.endpoints;
  return checkSlots({ maxRetainedBytes: deps.config.slotWarnBytes, slots: [] }, [
    poolSlotSource(names(e.CRM_DATABASE_URL), deps.pg.crm),
    poolSlotSource(names(e.TELEMETRY_DATABASE_URL), deps.pg.telemetry),
  ]);
}

function requireToken(deps: Deps): MiddlewareHandler {
  const token = deps.config.token;
  const expected = token === undefined ? undefined : digest(token);
  return async (c, next) => {
    if (!expected) throw new ConsoleError(403, 'write actions are off: start the console with CONSOLE_TOKEN set (at least 16 characters)');
    const given = /^Bearer (.+)$/i.exec(c.req.header('authorization') ?? '')?.[1];
    if (!given || !timingSafeEqual(digest(given), expected)) {
      c.header('WWW-Authenticate', 'Bearer realm="cdc-console"');
      throw new ConsoleError(401, given ? 'the token does not match' : 'send Authorization: Bearer <token> (the console’s CONSOLE_TOKEN)');
    }
    await next();
  };
}
