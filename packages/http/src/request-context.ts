import { randomUUID } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';
import type { Logger } from 'pino';
import type { ApiCaller } from './auth/authenticate.js';

export const REQUEST_ID_HEADER = 'x-request-id';

/**
 * The route pattern the request matched (/users/:id), also when a middleware answered
 * before the route ran (a 401 from the key check): the last matched handler's path,
 * not the current one's. '/*' for a path no route matches.
 */
export const routeOf = (c: Context): string => routePath(c, -1);

// Accept a caller's id only when it is safe to log and echo back.
const ACCEPTABLE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export interface RequestVariables {
  requestId: string;
  log: Logger;
  /** Set by the key check (auth/authenticate.ts) on every route that is not open. */
  caller: ApiCaller;
}

/**
 * Gives every request an id (the caller's X-Request-Id when acceptable, else a new
 * UUID), returns it in the response header, and hangs a child logger carrying it on
 * the context so that every log line of the request can be found by that id.
 */
export function requestContext(log: Logger): MiddlewareHandler<{ Variables: RequestVariables }> {
  return async (c, next) => {
    const given = c.req.header(REQUEST_ID_HEADER);
    const requestId = given && ACCEPTABLE_ID.test(given) ? given : randomUUID();
    const child = log.child({ request_id: requestId });
    c.set('requestId', requestId);
    c.set('log', child);
    const started = performance.now();
    try {
      await next();
    } finally {
      c.header(REQUEST_ID_HEADER, requestId);
      child.info(
        {
          method: c.req.method,
          path: c.req.path,
          route: routeOf(c),
          status: c.res.status,
          duration_ms: Math.round((performance.now() - started) * 100) / 100,
        },
        'request',
      );
    }
  };
}
