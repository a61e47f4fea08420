import type { MiddlewareHandler } from 'hono';
import { problem, ProblemType } from '@cdc/http';

/**
 * A stricter body limit for one route, under the app-wide one (createApiApp takes a
 * single limit, sized for the batch route).
 *
 * This runs after the frame's guards, so a body between this limit and the app-wide
 * one has already been read and parsed once: the single route still costs no more
 * than the batch route does, and its documented limit holds. The declared
 * Content-Length decides when there is one; a chunked body is measured from the
 * text the frame has already read (cached by Hono).
 */
export function routeBodyLimit(maxBytes: number): MiddlewareHandler {
  return async (c, next) => {
    const declared = c.req.header('content-length');
    const size =
      declared !== undefined && c.req.header('transfer-encoding') === undefined
        ? Number(declared)
        : Buffer.byteLength(await c.req.text());
    if (size > maxBytes) {
      return problem(c, {
        type: ProblemType.payloadTooLarge,
        title: 'Payload too large',
        status: 413,
        detail: `the body exceeds the limit of this route, ${maxBytes} bytes`,
      });
    }
    return next();
  };
}
