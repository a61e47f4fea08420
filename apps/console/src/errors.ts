import type { Context } from 'hono';
import { problem } from '@cdc/http/problem';

/** A failure the page can act on: a status and a sentence. */
export class ConsoleError extends Error {
  override name = 'ConsoleError';
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 409 | 502 | 503,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

const TITLES: Record<number, string> = {
  400: 'Bad request',
  401: 'A token is needed',
  403: 'Not allowed',
  404: 'Not found',
  409: 'Conflict',
  502: 'A server of the pipeline answered with an error',
  503: 'A server of the pipeline is unreachable',
};

export function toProblem(c: Context, err: Error): Response {
  // Anything not ours came from a dependency (Kafka, Connect, PostgreSQL, ClickHouse):
  // the console itself is fine, what it asked is not. Unreachable is 503, answered
  // with an error 502.
  const status = err instanceof ConsoleError ? err.status : unreachable(err) ? 503 : 502;
  return problem(c, { type: 'about:blank', title: TITLES[status] ?? 'Error', status, detail: err.message });
}

const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENOTFOUND', 'ETIMEDOUT', 'EPIPE', 'UND_ERR_CONNECT_TIMEOUT']);

/** The error and the errors it wraps (`cause`), innermost last. */
type Cause = { code?: unknown; name?: unknown; type?: unknown; cause?: unknown };
function* causes(err: unknown): Generator<Cause> {
  let e = err as Cause | undefined;
  for (let depth = 0; e && typeof e === 'object' && depth < 5; depth++, e = e.cause as Cause | undefined) yield e;
}

/** A connection that could not be made or was lost, as Node, undici, pg and kafkajs report it. */
export function unreachable(err: unknown): boolean {
  for (const e of causes(err)) {
    if (typeof e.code === 'string' && UNREACHABLE_CODES.has(e.code)) return true;
    if (typeof e.name === 'string' && /^KafkaJS(Connection|NumberOfRetriesExceeded|RequestTimeout)/.test(e.name)) return true;
    if (e.name === 'TimeoutError' || e.name === 'AbortError') return true;
  }
  return false;
}

/** Kafka's UNKNOWN_TOPIC_OR_PARTITION, also when wrapped (packages/kafka adds context as `cause`). */
export function unknownTopic(err: unknown): boolean {
  for (const e of causes(err)) if (e.type === 'UNKNOWN_TOPIC_OR_PARTITION') return true;
  return false;
}

/** A query parameter as a non-negative integer, or a 400 naming it. */
export function intParam(c: Context, name: string, bounds: { min?: number; max?: number } = {}): number | undefined {
  const raw = c.req.query(name);
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < (bounds.min ?? 0) || n > (bounds.max ?? Number.MAX_SAFE_INTEGER)) {
    throw new ConsoleError(400, `${name}: expected an integer in [${bounds.min ?? 0}, ${bounds.max ?? Number.MAX_SAFE_INTEGER}], got "${raw}"`);
  }
  return n;
}
