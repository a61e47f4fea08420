import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type TextMapGetter, type Tracer } from '@opentelemetry/api';
import {
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_URL_PATH,
  ATTR_URL_SCHEME,
  ATTR_USER_AGENT_ORIGINAL,
} from '@opentelemetry/semantic-conventions';
import type { MiddlewareHandler } from 'hono';
import { routeOf, type RequestVariables } from './request-context.js';

/** The response header that names the request's trace (the id to search for in Jaeger). */
export const TRACE_ID_HEADER = 'x-trace-id';

/**
 * The span attribute holding the request id: the same name as the log field and
 * the telemetry_events.request_id column, so a stored row, its log lines and its
 * trace are found by one value.
 */
export const REQUEST_ID_ATTRIBUTE = 'request_id';

// Probes and scrapes, every few seconds each: spans of them would bury the requests.
const UNTRACED_PATHS = new Set(['/health', '/metrics']);

const headerGetter: TextMapGetter<Headers> = {
  get: (headers, key) => headers.get(key) ?? undefined,
  keys: (headers) => [...headers.keys()],
};

/**
 * A SERVER span around every request, after the HTTP semantic conventions: a
 * caller's W3C traceparent makes it a child of the caller's span; named
 * "{method} {route template}" once routing is known; status ERROR for 5xx only (a
 * 4xx is the client's error, not the server's). Installed first, so the request
 * id, the access log line and every database span happen inside it.
 */
export function traceRequests(tracer: Tracer): MiddlewareHandler<{ Variables: RequestVariables }> {
  return async (c, next) => {
    if (UNTRACED_PATHS.has(c.req.path)) return next();
    const method = c.req.method;
    const url = new URL(c.req.url);
    const parent = propagation.extract(ROOT_CONTEXT, c.req.raw.headers, headerGetter);
    const userAgent = c.req.header('user-agent');
    const span = tracer.startSpan(
      method,
      {
        kind: SpanKind.SERVER,
        attributes: {
          [ATTR_HTTP_REQUEST_METHOD]: method,
          [ATTR_URL_PATH]: url.pathname,
          [ATTR_URL_SCHEME]: url.protocol.replace(':', ''),
          [ATTR_SERVER_ADDRESS]: url.hostname,
          [ATTR_SERVER_PORT]: Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
          ...(userAgent ? { [ATTR_USER_AGENT_ORIGINAL]: userAgent } : {}),
        },
      },
      parent,
    );
    try {
      await context.with(trace.setSpan(parent, span), next);
    } catch (err) {
      // Hono turns handler errors into responses (onError); only a failure of the
      // frame itself gets here.
      span.recordException(err as Error);
      span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
      throw err;
    }
    // '/*' is the catch-all of unmatched requests: no route, the name stays "{method}".
    const route = routeOf(c);
    if (route && route !== '/*') {
      span.updateName(`${method} ${route}`);
      span.setAttribute(ATTR_HTTP_ROUTE, route);
    }
    const status = c.res.status;
    span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status);
    const requestId = c.get('requestId');
    if (requestId) span.setAttribute(REQUEST_ID_ATTRIBUTE, requestId);
    if (status >= 500) {
      span.setStatus({ code: SpanStatusCode.ERROR });
      span.setAttribute(ATTR_ERROR_TYPE, c.error?.name ?? String(status));
      if (c.error) span.recordException(c.error);
    }
    c.header(TRACE_ID_HEADER, span.spanContext().traceId);
    span.end();
  };
}
