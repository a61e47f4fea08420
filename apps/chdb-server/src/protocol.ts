import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { Codes, chError } from './errors.js';
import { splitInsertBody } from './sql-sniff.js';

/** What one HTTP request asks the engine to do, in the terms of ClickHouse's HTTP interface. */
export interface QueryRequest {
  /** The statement: the `query` param, or the whole body when there is none. */
  sql: string;
  /** The body when `query` came as a param: an INSERT's data, or more SQL text. */
  data: Buffer;
  /** Every non-reserved param, in order; `readonly` always last (see below). */
  settings: Array<[string, string]>;
  /** `param_<name>` → name: value, still in ClickHouse's escaped text form. */
  queryParams: Record<string, string>;
  database: string | undefined;
  queryId: string;
  defaultFormat: string;
  /**
   * The request's own readonly level (0, 1 or 2) before the user's profile is
   * taken into account: GET and HEAD are 2, as on a server; a `readonly` param may
   * make it stricter.
   */
  readonly: number;
  responseCompression: { enabled: boolean; level: number };
  /** `compress=1`: the response in ClickHouse's native compressed blocks. */
  compressResponse: boolean;
  /** `decompress=1`: the body comes in native compressed blocks. */
  decompressRequest: boolean;
  /** `wait_end_of_query=1`: buffer the whole result, so the status and summary are final. */
  waitEndOfQuery: boolean;
  session: SessionParams | undefined;
  sendProgress: boolean;
  /** The server wrote `sql` itself (KILL QUERY's answer): no user's text to check. */
  serverBuilt?: boolean;
}

export interface SessionParams {
  id: string;
  timeout: string | null;
  check: boolean;
  close: boolean;
}

function sessionOf(params: URLSearchParams): SessionParams | undefined {
  const id = params.get('session_id');
  if (!id) return undefined;
  return {
    id,
    timeout: params.get('session_timeout'),
    check: flag(params.get('session_check')),
    close: flag(params.get('close_session')),
  };
}

/** Strictness order of readonly levels: 0 (none) < 2 (settings allowed) < 1. */
export function stricterReadonly(a: number, b: number): number {
  const rank = (n: number): number => (n === 1 ? 2 : n === 2 ? 1 : 0);
  return rank(a) >= rank(b) ? a : b;
}

function effectiveReadonly(method: string, urlReadonly: string | undefined): number {
  const base = method === 'GET' || method === 'HEAD' ? 2 : 0;
  const asked = Number.parseInt(urlReadonly ?? '0', 10);
  return stricterReadonly(base, asked === 1 || asked === 2 ? asked : 0);
}

/** Params the server interprets itself; all others are settings. */
const RESERVED = new Set([
  'query',
  'query_id',
  'database',
  'default_format',
  'session_id',
  'session_timeout',
  'session_check',
  'close_session',
  'user',
  'password',
  'quota_key',
  'role',
  'compress',
  'decompress',
  'wait_end_of_query',
  'buffer_size',
  'stacktrace',
  'client_protocol_version',
  // Handled by the HTTP layer when it encodes the response.
  'enable_http_compression',
  'http_zlib_compression_level',
]);

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  const s = Array.isArray(v) ? v[0] : v;
  return s === '' ? undefined : s;
}

/** A boolean URL param as a server reads it: `1` or `true`. */
export function flag(value: string | null): boolean {
  return value !== null && /^(1|true)$/i.test(value.trim());
}

/** The client's query_id, or a fresh one, as a server assigns it. */
export function queryIdOf(params: URLSearchParams): string {
  return params.get('query_id') || randomUUID();
}

/** The response compression the request asked for; the server default is on (since 25.x). */
export function responseCompressionOf(params: URLSearchParams): QueryRequest['responseCompression'] {
  const enabled = params.get('enable_http_compression');
  const level = Number.parseInt(params.get('http_zlib_compression_level') ?? '', 10);
  return {
    enabled: enabled === null || flag(enabled),
    level: Number.isInteger(level) && level >= 1 && level <= 9 ? level : 3,
  };
}

/**
 * Turns URL params (plus any multipart form fields, which a server treats the
 * same way) and the body into a QueryRequest. Only the request's envelope is
 * interpreted here; the SQL is passed on untouched.
 */
export function parseQueryRequest(input: {
  method: string;
  params: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: Buffer;
  queryId?: string;
}): QueryRequest {
  const { method, params, headers, body } = input;

  const queryParam = params.get('query');
  const hasQueryParam = queryParam !== null && queryParam.trim() !== '';
  const split = hasQueryParam ? undefined : splitInsertBody(body);
  const sql = hasQueryParam ? queryParam : split ? split.sql : body.toString('utf8');
  const data = hasQueryParam ? body : split ? split.data : Buffer.alloc(0);
  if (sql.trim() === '' && data.length === 0) {
    throw chError(Codes.SYNTAX_ERROR, 'Empty query');
  }

  const settings = new Map<string, string>();
  const queryParams: Record<string, string> = {};
  for (const [key, value] of params) {
    if (key.startsWith('param_')) queryParams[key.slice('param_'.length)] = value;
    else if (!RESERVED.has(key)) settings.set(key, value);
  }

  const urlReadonly = settings.get('readonly');
  settings.delete('readonly');
  // log_comment carries the server's marker for finding a running query.
  settings.delete('log_comment');

  return {
    sql,
    data,
    settings: [...settings],
    queryParams,
    database: header(headers, 'x-clickhouse-database') ?? (params.get('database') || undefined),
    queryId: input.queryId ?? queryIdOf(params),
    defaultFormat:
      header(headers, 'x-clickhouse-format') ?? (params.get('default_format') || 'TabSeparated'),
    readonly: effectiveReadonly(method, urlReadonly),
    responseCompression: responseCompressionOf(params),
    compressResponse: flag(params.get('compress')),
    decompressRequest: flag(params.get('decompress')),
    waitEndOfQuery: flag(params.get('wait_end_of_query')),
    session: sessionOf(params),
    sendProgress: flag(params.get('send_progress_in_http_headers')),
  };
}
