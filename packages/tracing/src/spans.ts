import {
  SpanKind,
  SpanStatusCode,
  type Attributes,
  type Span,
  type SpanOptions,
  type Tracer,
} from '@opentelemetry/api';
import { ATTR_ERROR_TYPE } from '@opentelemetry/semantic-conventions';

/** Marks a span failed by `err`: status ERROR, the exception as an event, error.type. */
export function recordError(span: Span, err: unknown): void {
  const error = err instanceof Error ? err : new Error(String(err));
  span.recordException(error);
  span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
  // A database error's SQLSTATE / Prisma code says more than its class name.
  const code = (err as { code?: unknown }).code;
  span.setAttribute(ATTR_ERROR_TYPE, typeof code === 'string' && code ? code : error.name);
}

/**
 * Runs `fn` inside a new active span (children and log lines see it), ends the span
 * when `fn` settles and records a rejection before passing it on.
 */
export function inSpan<T>(tracer: Tracer, name: string, options: SpanOptions, fn: (span: Span) => Promise<T>): Promise<T> {
  return tracer.startActiveSpan(name, options, async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      recordError(span, err);
      throw err;
    } finally {
      span.end();
    }
  });
}

/**
 * `target` with every method wrapped in a CLIENT span named by `describe`, for
 * repositories: the database work of a request shows up as children of its server
 * span without touching the repository code (ESM auto-instrumentation of pg/Prisma
 * needs loader hooks, which are fragile under tsx). Only the apps that trace wrap
 * their repositories, so with tracing off no call pays for it.
 */
export function traceMethods<T extends object>(
  target: T,
  tracer: Tracer,
  describe: (method: string) => { name: string; attributes: Attributes },
): T {
  const wrapped: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(target)) {
    if (typeof value !== 'function') {
      wrapped[key] = value;
      continue;
    }
    const { name, attributes } = describe(key);
    const options: SpanOptions = { kind: SpanKind.CLIENT, attributes };
    wrapped[key] = (...args: unknown[]) =>
      inSpan(tracer, name, options, () => Promise.resolve((value as (...a: unknown[]) => unknown).apply(target, args)));
  }
  return wrapped as T;
}
