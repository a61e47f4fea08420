import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { problem, ProblemType } from './problem.js';

/**
 * Guards for JSON endpoints, in the order a client would want to hear about them:
 * wrong media type (415), too large (413, checked while streaming so a huge body is
 * never buffered), then not JSON at all (400). The parsed body is left for the
 * route's schema validation (422).
 */
export function jsonBody(maxBytes: number): MiddlewareHandler[] {
  // A request without content has no media type to check (an action such as
  // POST /users/{id}/erase, as `curl -X POST` sends it); a route that needs a body says
  // so in its schema (422). Over HTTP/1.1 a request has content only with
  // Content-Length or Transfer-Encoding; a Request built in-process (app.request in
  // tests) has neither header, only its body.
  const withContent = (c: Parameters<MiddlewareHandler>[0]) => {
    if (!['POST', 'PUT', 'PATCH'].includes(c.req.method)) return false;
    if (c.req.header('transfer-encoding') !== undefined) return true;
    const length = c.req.header('content-length');
    if (length !== undefined) return Number(length) !== 0;
    const overHttp = (c.env as { incoming?: unknown } | undefined)?.incoming !== undefined;
    return !overHttp && c.req.raw.body !== null;
  };

  const requireJson: MiddlewareHandler = async (c, next) => {
    if (!withContent(c)) return next();
    const type = c.req.header('content-type') ?? '';
    if (!/^application\/(.+\+)?json\s*(;|$)/i.test(type)) {
      return problem(c, {
        type: ProblemType.unsupportedMediaType,
        title: 'Unsupported media type',
        status: 415,
        detail: `expected Content-Type: application/json, got ${type ? `"${type}"` : 'none'}`,
      });
    }
    return next();
  };

  const limit = bodyLimit({
    maxSize: maxBytes,
    onError: (c) => {
      // The rest of the body is never read: the server drops the connection later
      // without saying so, and a client that reuses it loses its request (measured:
      // a third of back-to-back oversized POSTs got "socket closed" instead of 413).
      c.header('Connection', 'close');
      return problem(c, {
        type: ProblemType.payloadTooLarge,
        title: 'Payload too large',
        status: 413,
        detail: `the body exceeds the limit of ${maxBytes} bytes`,
      });
    },
  });

  // JSON between systems is UTF-8 (RFC 8259 §8.1). c.req.json() decodes leniently:
  // invalid bytes would become U+FFFD and be stored in place of what was sent.
  const utf8 = new TextDecoder('utf-8', { fatal: true });

  const parseJson: MiddlewareHandler = async (c, next) => {
    if (!withContent(c)) return next();
    let parsed: unknown;
    try {
      const bytes = await c.req.arrayBuffer();
      let text: string;
      try {
        text = utf8.decode(bytes);
      } catch {
        throw new Error('it is not UTF-8');
      }
      parsed = JSON.parse(text);
    } catch (err) {
      return problem(c, {
        type: ProblemType.malformedJson,
        title: 'Malformed JSON',
        status: 400,
        detail: `the body is not valid JSON: ${(err as Error).message}`,
      });
    }
    // Hono caches the body, not the parsed value: every later c.req.json()
    // (the route's validator) would JSON.parse it again, a measurable cost on an
    // 8 MiB batch. Hand out this parse instead.
    const once = Promise.resolve(parsed);
    Object.defineProperty(c.req, 'json', { value: () => once, configurable: true });
    return next();
  };

  return [requireJson, limit, parseJson];
}
