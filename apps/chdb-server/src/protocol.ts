import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { Codes, chError } from './errors.js';

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
  /** GET and HEAD run read-only, as on a server. */
  readonly: boolean;
  responseCompression: { enabled: boolean; level: number };
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

function flag(value: string | null): boolean {
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

  // ClickHouse's own block compression (CityHash + LZ4 framing), unrelated to
  // HTTP Content-Encoding. Ignoring it would hand the client bytes it cannot read.
  if (flag(params.get('compress')) || flag(params.get('decompress'))) {
    throw chError(
      Codes.NOT_IMPLEMENTED,
      'The compress/decompress params (ClickHouse native block compression) are not ' +
        'supported by chdb-server; use HTTP Content-Encoding instead',
    );
  }

  const queryParam = params.get('query');
  const hasQueryParam = queryParam !== null && queryParam.trim() !== '';
  const sql = hasQueryParam ? queryParam : body.toString('utf8');
  const data = hasQueryParam ? body : Buffer.alloc(0);
  if (sql.trim() === '' && data.length === 0) {
    throw chError(Codes.SYNTAX_ERROR, 'Empty query');
  }

  const settings = new Map<string, string>();
  const queryParams: Record<string, string> = {};
  for (const [key, value] of params) {
    if (key.startsWith('param_')) queryParams[key.slice('param_'.length)] = value;
    else if (!RESERVED.has(key)) settings.set(key, value);
  }

  // A server sets readonly=2 for GET/HEAD unless the user already chose a
  // stricter value: reads only, but settings may still change (so a query-level
  // SETTINGS clause keeps working). It goes last because once applied, no later
  // setting may change readonly.
  const readonly = method === 'GET' || method === 'HEAD';
  const userReadonly = settings.get('readonly');
  settings.delete('readonly');
  if (readonly) {
    const n = Number.parseInt(userReadonly ?? '0', 10);
    settings.set('readonly', n >= 1 ? String(n) : '2');
  } else if (userReadonly !== undefined) {
    settings.set('readonly', userReadonly);
  }

  return {
    sql,
    data,
    settings: [...settings],
    queryParams,
    database: header(headers, 'x-clickhouse-database') ?? (params.get('database') || undefined),
    queryId: input.queryId ?? queryIdOf(params),
    defaultFormat:
      header(headers, 'x-clickhouse-format') ?? (params.get('default_format') || 'TabSeparated'),
    readonly,
    responseCompression: responseCompressionOf(params),
  };
}
