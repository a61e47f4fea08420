/**
 * Errors travel in ClickHouse's own shape — a numeric code plus a message that
 * starts with `Code: N. DB::Exception:` and ends with `(NAME)` — because clients
 * (clickhouse-js `parseError`, scripts grepping for `Code: 60`) parse that text,
 * not our HTTP status.
 */
export class ClickHouseError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = 'ClickHouseError';
  }
}

/** The codes this server raises itself; everything else comes from the engine. */
export const Codes = {
  BAD_ARGUMENTS: 36,
  CHECKSUM_DOESNT_MATCH: 40,
  NOT_IMPLEMENTED: 48,
  SYNTAX_ERROR: 62,
  UNKNOWN_COMPRESSION_METHOD: 89,
  NO_DATA_TO_INSERT: 108,
  UNKNOWN_SETTING: 115,
  READONLY: 164,
  TOO_MANY_SIMULTANEOUS_QUERIES: 202,
  QUERY_WITH_SAME_ID_IS_ALREADY_RUNNING: 216,
  QUERY_IS_TOO_LARGE: 229,
  CANNOT_DECOMPRESS: 271,
  SESSION_NOT_FOUND: 372,
  SESSION_IS_LOCKED: 373,
  QUERY_WAS_CANCELLED: 394,
  SETTING_CONSTRAINT_VIOLATION: 452,
  UNKNOWN_QUERY_PARAMETER: 456,
  BAD_QUERY_PARAMETER: 457,
  ACCESS_DENIED: 497,
  AUTHENTICATION_FAILED: 516,
  STD_EXCEPTION: 1001,
} as const;

const names = Object.fromEntries(Object.entries(Codes).map(([k, v]) => [v, k])) as Record<
  number,
  string
>;

/** Builds an error worded the way the server words its own. */
export function chError(code: (typeof Codes)[keyof typeof Codes], text: string): ClickHouseError {
  return new ClickHouseError(code, `Code: ${code}. DB::Exception: ${text}. (${names[code]})`);
}

const codePrefix = /^Code: (\d+)\./;

/**
 * Wraps whatever chDB threw. The native layer gives a plain Error whose message
 * already is the server's text, so the message is kept verbatim; only the code
 * is lifted out of it.
 */
export function fromEngineError(e: unknown): ClickHouseError {
  if (e instanceof ClickHouseError) return e;
  const message = e instanceof Error ? e.message : String(e);
  const typed = (e as { clickhouseCode?: unknown } | null)?.clickhouseCode;
  const parsed = codePrefix.exec(message)?.[1];
  const code = typeof typed === 'number' ? typed : parsed !== undefined ? Number(parsed) : undefined;
  if (code === undefined) {
    return new ClickHouseError(
      Codes.STD_EXCEPTION,
      `Code: ${Codes.STD_EXCEPTION}. DB::Exception: ${message}. (STD_EXCEPTION)`,
    );
  }
  return new ClickHouseError(code, message);
}

const badRequest = new Set([
  373, 6, 8, 15, 25, 26, 27, 36, 37, 38, 41, 44, 53, 62, 72, 117, 123, 167, 168, 223, 321, 376, 427, 441,
  675, 676,
]);
const notFound = new Set([46, 47, 50, 56, 60, 63, 73, 78, 81, 115, 152, 336, 372, 511]);
const forbidden = new Set([192, 193, 497, 512]);

/**
 * ClickHouse's exceptionCodeToHTTPStatus table, with one deliberate difference:
 * AUTHENTICATION_FAILED (516) answers 401 as this project asked, where a
 * ClickHouse 25+ server answers 403. Clients only look at the body and the
 * X-ClickHouse-Exception-Code header, never at which 4xx it is.
 */
export function httpStatusFor(code: number): number {
  if (code === 194 || code === Codes.AUTHENTICATION_FAILED) return 401;
  if (forbidden.has(code)) return 403;
  if (badRequest.has(code)) return 400;
  if (notFound.has(code)) return 404;
  if (code === Codes.QUERY_IS_TOO_LARGE) return 413;
  if (code === Codes.NOT_IMPLEMENTED) return 501;
  if (code === 209 || code === 76 || code === 439 || code === 202) return 503;
  if (code === 381) return 411;
  if (code === 159) return 408;
  if (code === 779) return 415;
  return 500;
}

/** Response body for an error: the message and a newline, exactly like the server. */
export function errorBody(err: ClickHouseError): string {
  return err.message.endsWith('\n') ? err.message : `${err.message}\n`;
}
