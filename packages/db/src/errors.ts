/**
 * One vocabulary for database failures, whether they come from Prisma (with the pg
 * driver adapter) or from `pg` directly, so both APIs map them to HTTP the same way.
 */
export type DbErrorKind = 'unavailable' | 'unique_violation' | 'check_violation';

export interface DbError {
  kind: DbErrorKind;
  /** Constraint or fields involved, when the database says. */
  constraint?: string;
  fields?: string[];
  message: string;
}

// Connection-level SQLSTATE classes and codes: the database is down, restarting or full,
// or (3D000) not there at all, as for a moment while a restored copy is renamed into place.
const UNAVAILABLE_SQLSTATE = /^(08|57P0[1-3]|53300|3D000)/;
// 55000 is a broad class; only this message of it means the database refuses connections.
const UNAVAILABLE_MESSAGE = /timeout exceeded when trying to connect|Connection terminated|Query read timeout|is not currently accepting connections/i;
const UNAVAILABLE_NODE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH']);
// Prisma: can't reach (P1001), timed out (P1002, P1008), no such database (P1003), closed (P1017), pool timeout (P2024).
const UNAVAILABLE_PRISMA = new Set(['P1001', 'P1002', 'P1003', 'P1008', 'P1017', 'P2024']);
const UNAVAILABLE_ADAPTER_KINDS = new Set(['DatabaseNotReachable', 'DatabaseDoesNotExist', 'ConnectionClosed', 'SocketTimeout', 'TooManyConnections', 'TransactionAlreadyClosed']);

interface Shape {
  code?: unknown;
  message?: unknown;
  constraint?: unknown;
  meta?: { target?: unknown; driverAdapterError?: { cause?: AdapterCause } };
  cause?: AdapterCause | Shape;
}
interface AdapterCause {
  kind?: string;
  originalCode?: string;
  originalMessage?: string;
  constraint?: { fields?: string[]; index?: string };
}

export function classifyDbError(err: unknown): DbError | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as Shape;
  const message = String(e.message ?? err);
  const adapter: AdapterCause | undefined = e.meta?.driverAdapterError?.cause ?? (isAdapterCause(e.cause) ? e.cause : undefined);
  const code = typeof e.code === 'string' ? e.code : undefined;
  const sqlstate = adapter?.originalCode ?? (code && /^[0-9A-Z]{5}$/.test(code) ? code : undefined);

  if (
    (code && (UNAVAILABLE_PRISMA.has(code) || UNAVAILABLE_NODE_CODES.has(code))) ||
    (adapter?.kind && UNAVAILABLE_ADAPTER_KINDS.has(adapter.kind)) ||
    (sqlstate && UNAVAILABLE_SQLSTATE.test(sqlstate)) ||
    UNAVAILABLE_MESSAGE.test(message)
  ) {
    return { kind: 'unavailable', message };
  }
  if (code === 'P2002' || sqlstate === '23505' || adapter?.kind === 'UniqueConstraintViolation') {
    return {
      kind: 'unique_violation',
      fields: adapter?.constraint?.fields ?? (Array.isArray(e.meta?.target) ? (e.meta!.target as string[]) : undefined),
      constraint: typeof e.constraint === 'string' ? e.constraint : adapter?.constraint?.index,
      message,
    };
  }
  if (sqlstate === '23514') {
    return { kind: 'check_violation', constraint: typeof e.constraint === 'string' ? e.constraint : undefined, message };
  }
  // A nested cause (DriverAdapterError wraps the pg error) may carry the answer.
  if (e.cause && typeof e.cause === 'object' && e.cause !== err) return classifyDbError(e.cause);
  return undefined;
}

function isAdapterCause(c: unknown): c is AdapterCause {
  return typeof c === 'object' && c !== null && ('kind' in c || 'originalCode' in c);
}
