import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import { type Logger, pino } from 'pino';
import { authenticate, credentialsOf } from './auth.js';
import { readBody } from './body.js';
import { chooseEncoding, compress } from './compression.js';
import type { ServerConfig } from './config.js';
import {
  ClickHouseError,
  Codes,
  chError,
  errorBody,
  fromEngineError,
  httpStatusFor,
} from './errors.js';
import { Executor } from './executor.js';
import { contentTypeFor } from './formats.js';
import { multipartBoundary, parseMultipart } from './multipart.js';
import {
  parseQueryRequest,
  type QueryRequest,
  queryIdOf,
  responseCompressionOf,
} from './protocol.js';
import { formatClause } from './sql-sniff.js';

export interface RunningServer {
  /** Base URL, e.g. http://127.0.0.1:8123 — what CLICKHOUSE_URL should be set to. */
  readonly url: string;
  /** Stops accepting, lets in-flight requests finish, then closes the chDB session. */
  close(): Promise<void>;
}

// ClickHouse's default http_max_uri_size; Node's 16 KiB default would refuse
// long GET queries a server accepts.
const MAX_URL_BYTES = 1 << 20;

type Headers = Record<string, string>;

interface Outcome {
  status: number;
  code?: number;
  error?: string;
  query?: string;
  summary?: Record<string, string>;
}

export async function startServer(
  config: ServerConfig,
  options: { logger?: Logger } = {},
): Promise<RunningServer> {
  const log = options.logger ?? pino({ level: config.logLevel, base: { service: 'chdb-server' } });
  const executor = await Executor.open(config.dataPath, log);
  const displayName = hostname();
  let draining = false;
  let inFlight = 0;
  let onIdle: (() => void) | undefined;

  async function send(
    res: ServerResponse,
    status: number,
    body: Buffer,
    headers: Headers,
    encoding?: { name: ReturnType<typeof chooseEncoding>; level: number },
  ): Promise<void> {
    let payload = body;
    // An empty body goes out uncompressed: no Content-Encoding, nothing for the
    // client to inflate.
    if (encoding?.name && payload.length > 0) {
      payload = await compress(payload, encoding.name, encoding.level);
      headers['Content-Encoding'] = encoding.name;
    }
    headers['Content-Length'] = String(payload.length);
    if (draining) headers.Connection = 'close';
    if (res.destroyed || res.headersSent) return;
    res.writeHead(status, headers);
    res.end(payload);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://chdb-server');
    const params = url.searchParams;
    const queryId = queryIdOf(params);
    const base: Headers = {
      'X-ClickHouse-Server-Display-Name': displayName,
      'X-ClickHouse-Query-Id': queryId,
      'X-ClickHouse-Timezone': executor.timezone,
    };
    let outcome: Outcome = { status: 200 };
    let compression: QueryRequest['responseCompression'] | undefined;
    let quiet = false;

    try {
      if (isHealthProbe(method, url, req)) {
        // Liveness answers without auth, as on a server.
        quiet = true;
        await send(res, 200, Buffer.from('Ok.\n'), { 'Content-Type': 'text/html; charset=UTF-8' });
        return;
      }
      if (method !== 'GET' && method !== 'HEAD' && method !== 'POST') {
        throw chError(Codes.BAD_ARGUMENTS, `HTTP method ${method} is not supported`);
      }
      const denied = authenticate(config, credentialsOf(req.headers, params));
      if (denied) throw denied;

      outcome.query = params.get('query')?.slice(0, 200);
      const body = await readPayload(req, params, config.maxBodyBytes);
      compression = responseCompressionOf(params);

      const q = parseQueryRequest({ method, params, headers: req.headers, body, queryId });
      outcome.query = q.sql.slice(0, 200);
      const result = await executor.run({
        sql: q.sql,
        data: q.data,
        format: q.defaultFormat,
        settings: q.settings,
        queryParams: q.queryParams,
        database: q.database,
      });
      // The engine lets a FORMAT clause win over default_format; the headers
      // have to name the format actually produced.
      const format =
        result.kind === 'insert' ? q.defaultFormat : (formatClause(q.sql) ?? q.defaultFormat);
      outcome.summary = result.summary;
      await send(
        res,
        200,
        result.body,
        {
          ...base,
          'Content-Type': contentTypeFor(format),
          'X-ClickHouse-Format': format,
          'X-ClickHouse-Summary': JSON.stringify(result.summary),
        },
        encodingFor(compression, req),
      );
    } catch (e) {
      const err = e instanceof ClickHouseError ? e : fromEngineError(e);
      const status = httpStatusFor(err.code);
      outcome = { ...outcome, status, code: err.code, error: err.message.slice(0, 1000) };
      const headers: Headers = {
        ...base,
        'Content-Type': 'text/plain; charset=UTF-8',
        'X-ClickHouse-Exception-Code': String(err.code),
      };
      // The rest of an oversized body is never read; the connection cannot be reused.
      if (err.code === Codes.QUERY_IS_TOO_LARGE) headers.Connection = 'close';
      try {
        const encoding = encodingFor(compression, req);
        await send(res, status, Buffer.from(errorBody(err)), headers, encoding);
      } catch (sendError) {
        log.error({ err: sendError, query_id: queryId }, 'could not send the error response');
        res.destroy();
      }
    } finally {
      const entry = {
        query_id: queryId,
        method,
        path: url.pathname,
        status: outcome.status,
        duration_ms: Math.round((performance.now() - started) * 10) / 10,
        ...(outcome.code !== undefined && { code: outcome.code, error: outcome.error }),
        ...(outcome.query !== undefined && { query: outcome.query }),
        ...(outcome.summary && {
          result_rows: Number(outcome.summary.result_rows),
          written_rows: Number(outcome.summary.written_rows),
        }),
      };
      if (quiet) log.debug(entry, 'request');
      else if (outcome.status >= 500) log.error(entry, 'request');
      else if (outcome.status >= 400) log.warn(entry, 'request');
      else log.info(entry, 'request');
    }
  }

  const server = createServer({ maxHeaderSize: MAX_URL_BYTES }, (req, res) => {
    inFlight++;
    handle(req, res)
      .catch((e: unknown) => {
        // handle() answers every error itself; reaching here means a bug, and
        // an unhandled rejection would take the whole engine down with it.
        log.error({ err: e }, 'request handler failed');
        res.destroy();
      })
      .finally(() => {
        inFlight--;
        if (inFlight === 0) onIdle?.();
      });
  });

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (e) {
    await executor.close();
    throw e;
  }

  const { port } = server.address() as AddressInfo;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  let closing: Promise<void> | undefined;

  return {
    url: `http://${host}:${port}`,
    close() {
      closing ??= (async () => {
        draining = true;
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        if (inFlight > 0) await new Promise<void>((resolve) => (onIdle = resolve));
        server.closeAllConnections();
        await stopped;
        await executor.close();
      })();
      return closing;
    },
  };
}

/**
 * The request body, with multipart/form-data fields moved into `params`: a
 * server reads form fields exactly like URL params, and the form then is not a
 * body any more.
 */
async function readPayload(
  req: IncomingMessage,
  params: URLSearchParams,
  limit: number,
): Promise<Buffer> {
  const body = await readBody(req, limit);
  const boundary = multipartBoundary(req.headers['content-type']);
  if (boundary === undefined) return body;
  for (const part of parseMultipart(body, boundary)) {
    if (part.filename !== undefined) {
      throw chError(
        Codes.BAD_ARGUMENTS,
        `multipart/form-data file part '${part.name}' (external data tables) ` +
          'is not supported by chdb-server',
      );
    }
    params.append(part.name, part.value.toString('utf8'));
  }
  return Buffer.alloc(0);
}

/** `/ping`, and a bare GET / with no query: the two URLs a server answers with `Ok.`. */
function isHealthProbe(method: string, url: URL, req: IncomingMessage): boolean {
  if (url.pathname === '/ping') return true;
  if (url.pathname !== '/' || (method !== 'GET' && method !== 'HEAD')) return false;
  const length = req.headers['content-length'];
  const hasBody =
    req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
  return !url.searchParams.has('query') && !hasBody;
}

function encodingFor(
  compression: QueryRequest['responseCompression'] | undefined,
  req: IncomingMessage,
): { name: ReturnType<typeof chooseEncoding>; level: number } | undefined {
  if (!compression?.enabled) return undefined;
  const name = chooseEncoding(req.headers['accept-encoding']);
  return name ? { name, level: compression.level } : undefined;
}
