import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import { type Logger, pino } from 'pino';
import { AccessCheck } from './access.js';
import { readBody } from './body.js';
import { chooseEncoding } from './codec/http-encoding.js';
import type { ServerConfig } from './config.js';
import { Control, RunningQueries } from './control.js';
import { ClickHouseError, Codes, chError, errorBody, fromEngineError, httpStatusFor } from './errors.js';
import { Executor, querySummary } from './executor.js';
import { contentTypeFor } from './formats.js';
import { parseKill, runKill } from './kill.js';
import { multipartBoundary, parseMultipart } from './multipart.js';
import { PLAY_PAGE } from './play.js';
import { flag, parseQueryRequest, type QueryRequest, queryIdOf, responseCompressionOf } from './protocol.js';
import { type Encoding, type Headers, sendStream, sendWhole } from './respond.js';
import { SessionStore } from './sessions.js';
import { credentialsOf } from './auth.js';
import { loadUsers, singleUser, type User, type Users } from './users.js';

export interface RunningServer {
  /** Base URL, e.g. http://127.0.0.1:8123 — what CLICKHOUSE_URL should be set to. */
  readonly url: string;
  /** Stops accepting, lets in-flight requests finish, then closes every chDB connection. */
  close(): Promise<void>;
}

// ClickHouse's default http_max_uri_size; Node's 16 KiB default would refuse
// long GET queries a server accepts.
const MAX_URL_BYTES = 1 << 20;

// Settings every connection starts with. chDB enables implicit_select for
// clickhouse-local convenience; a server has it off, and with it on a typo
// answers UNKNOWN_IDENTIFIER instead of SYNTAX_ERROR.
const BASE_ARGS = ['--implicit_select=0'];

interface Outcome {
  status: number;
  code?: number;
  error?: string;
  query?: string;
  user?: string;
  summary?: Record<string, string>;
  aborted?: boolean;
}

const NOT_FOUND_TEXT = (path: string): string =>
  `There is no handle ${path}\n\nUse / or /ping for health checks.\nOr /replicas_status for more sophisticated health checks.\n\n` +
  'Send queries from your program with POST method or GET /?query=...\n\nUse /play for a web SQL page.\n';

export async function startServer(
  config: ServerConfig,
  options: { logger?: Logger } = {},
): Promise<RunningServer> {
  const log = options.logger ?? pino({ level: config.logLevel, base: { service: 'chdb-server' } });
  const users: Users = config.usersFile ? loadUsers(config.usersFile) : singleUser(config.user, config.password);
  const engineArgs = config.configFile ? [...BASE_ARGS, `--config-file=${config.configFile}`] : BASE_ARGS;
  const control = Control.open(config.dataPath, engineArgs);
  const sessions = new SessionStore(config.dataPath, engineArgs);
  const executor = new Executor(sessions, new AccessCheck({ control, scratch: (settings) => sessions.scratch(settings) }));
  const running = new RunningQueries();
  let timezone = 'UTC';
  try {
    timezone = (await control.rows('SELECT serverTimezone() AS tz'))[0]?.tz ?? 'UTC';
  } catch (e) {
    await control.close();
    throw e;
  }
  const displayName = hostname();
  let draining = false;
  let inFlight = 0;
  let onIdle: (() => void) | undefined;

  function encodingOf(q: Pick<QueryRequest, 'responseCompression' | 'compressResponse'> | undefined, req: IncomingMessage): Encoding {
    if (!q) return { native: false, http: undefined };
    const name = q.responseCompression.enabled ? chooseEncoding(req.headers['accept-encoding']) : undefined;
    return { native: q.compressResponse, http: name ? { name, level: q.responseCompression.level } : undefined };
  }

  async function runQuery(
    req: IncomingMessage,
    res: ServerResponse,
    user: User,
    q: QueryRequest,
    base: Headers,
    outcome: Outcome,
  ): Promise<void> {
    const encoding = encodingOf(q, req);
    const kill = parseKill(q.sql);
    if (kill) q = { ...q, sql: await runKill(kill, user, running), data: Buffer.alloc(0), defaultFormat: kill.format ?? q.defaultFormat, settings: [], session: undefined, serverBuilt: true };

    const { lease, undo } = await executor.lease(user, q);
    let cancelled = false;
    const cancel = async (): Promise<void> => {
      if (cancelled) return;
      cancelled = true;
      await control.kill(lease.marker).catch((e: unknown) => log.warn({ err: e, query_id: q.queryId }, 'could not stop the query'));
    };
    const onClose = (): void => {
      if (!res.writableFinished) void cancel();
    };
    res.on('close', onClose);
    let unregister: (() => void) | undefined;
    try {
      unregister = running.add(
        { queryId: q.queryId, user: user.name, sql: q.sql.slice(0, 1000), marker: lease.marker, startedAt: Date.now(), cancel },
        user.profile.maxConcurrentQueries,
      );
      const started = await executor.start(lease.conn, q, lease.persistent, user, undo);
      if (started.kind === 'insert') {
        outcome.summary = started.summary;
        lease.finishing();
        await sendWhole(
          res,
          200,
          Buffer.alloc(0),
          { ...base, 'Content-Type': contentTypeFor(q.defaultFormat), 'X-ClickHouse-Format': q.defaultFormat, 'X-ClickHouse-Summary': JSON.stringify(started.summary) },
          encoding,
        );
        return;
      }
      const headers = {
        ...base,
        'Content-Type': contentTypeFor(started.format),
        'X-ClickHouse-Format': started.format,
      };
      if (started.kind === 'whole') {
        outcome.summary = querySummary(0, started.body.length, 0);
        lease.finishing();
        await sendWhole(res, 200, started.body, { ...headers, 'X-ClickHouse-Summary': JSON.stringify(outcome.summary) }, encoding);
        return;
      }
      try {
        const result = await sendStream({
          res,
          stream: started.stream,
          first: started.first,
          headers,
          encoding,
          waitEndOfQuery: q.waitEndOfQuery,
          progress: () => control.progress(lease.marker),
          progressHeader: q.sendProgress,
          onDrained: () => lease.finishing(),
        });
        outcome.summary = result.summary;
        outcome.aborted = result.aborted;
        if (result.error) {
          outcome.code = result.error.code;
          outcome.error = result.error.message.slice(0, 1000);
        }
      } finally {
        started.stream.release();
      }
    } finally {
      res.off('close', onClose);
      unregister?.();
      await executor.restore(lease, undo);
      // Dropped before the unlock, so a request waiting on this session opens a new one.
      if (q.session?.close) await sessions.drop(q.session.id);
      await lease.release();
    }
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
      'X-ClickHouse-Timezone': timezone,
    };
    if (draining) base.Connection = 'close';
    const outcome: Outcome = { status: 200 };
    let q: QueryRequest | undefined;
    let quiet = false;

    try {
      const path = url.pathname;
      if (isHealthProbe(method, url, req) || path === '/replicas_status') {
        // Liveness answers without auth, as on a server.
        quiet = true;
        await sendWhole(res, 200, Buffer.from('Ok.\n'), { 'Content-Type': 'text/html; charset=UTF-8' }, encodingOf(undefined, req));
        return;
      }
      if (path === '/play' && (method === 'GET' || method === 'HEAD')) {
        await sendWhole(res, 200, Buffer.from(PLAY_PAGE), { 'Content-Type': 'text/html; charset=UTF-8' }, encodingOf(undefined, req));
        return;
      }
      if (path !== '/') {
        outcome.status = 404;
        await sendWhole(res, 404, Buffer.from(NOT_FOUND_TEXT(path)), { ...base, 'Content-Type': 'text/plain; charset=UTF-8' }, encodingOf(undefined, req));
        return;
      }
      if (method !== 'GET' && method !== 'HEAD' && method !== 'POST') {
        throw chError(Codes.BAD_ARGUMENTS, `HTTP method ${method} is not supported`);
      }
      const user = users.authenticate(credentialsOf(req.headers, params));
      if (user instanceof ClickHouseError) throw user;
      outcome.user = user.name;
      outcome.query = params.get('query')?.slice(0, 200);
      const body = await readPayload(req, params, config.maxBodyBytes);
      q = parseQueryRequest({ method, params, headers: req.headers, body, queryId });
      outcome.query = q.sql.slice(0, 200);
      await runQuery(req, res, user, q, base, outcome);
    } catch (e) {
      const err = e instanceof ClickHouseError ? e : fromEngineError(e);
      const status = httpStatusFor(err.code);
      Object.assign(outcome, { status, code: err.code, error: err.message.slice(0, 1000) });
      const headers: Headers = {
        ...base,
        'Content-Type': 'text/plain; charset=UTF-8',
        'X-ClickHouse-Exception-Code': String(err.code),
      };
      // The rest of an oversized body is never read; the connection cannot be reused.
      if (err.code === Codes.QUERY_IS_TOO_LARGE) headers.Connection = 'close';
      try {
        await sendWhole(res, status, Buffer.from(errorBody(err)), headers, encodingOf(q ?? responseOnly(params), req));
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
        ...(outcome.user !== undefined && { user: outcome.user }),
        ...(outcome.code !== undefined && { code: outcome.code, error: outcome.error }),
        ...(outcome.query !== undefined && { query: outcome.query }),
        ...(outcome.aborted && { aborted: true }),
        ...(outcome.summary && {
          result_rows: Number(outcome.summary.result_rows),
          written_rows: Number(outcome.summary.written_rows),
        }),
      };
      if (quiet) log.debug(entry, 'request');
      else if (outcome.status >= 500) log.error(entry, 'request');
      else if (outcome.status >= 400 || outcome.code !== undefined) log.warn(entry, 'request');
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
    await sessions.close();
    await control.close();
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
        await sessions.close();
        await control.close();
      })();
      return closing;
    },
  };
}

/** Only what the response encoding needs, for errors raised before the request was parsed. */
function responseOnly(params: URLSearchParams): Pick<QueryRequest, 'responseCompression' | 'compressResponse'> {
  return { responseCompression: responseCompressionOf(params), compressResponse: flag(params.get('compress')) };
}

/**
 * The request body, with multipart/form-data fields moved into `params`: a
 * server reads form fields exactly like URL params, and the form then is not a
 * body any more.
 */
async function readPayload(req: IncomingMessage, params: URLSearchParams, limit: number): Promise<Buffer> {
  // decompress=1: the whole body, SQL and data alike, is in native compressed blocks.
  const body = await readBody(req, limit, { nativeBlocks: flag(params.get('decompress')) });
  const boundary = multipartBoundary(req.headers['content-type']);
  if (boundary === undefined) return body;
  for (const part of parseMultipart(body, boundary)) {
    if (part.filename !== undefined) {
      throw chError(
        Codes.BAD_ARGUMENTS,
        `multipart/form-data file part '${part.name}' (external data tables) is not supported by chdb-server`,
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
  const hasBody = req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
  return !url.searchParams.has('query') && !hasBody;
}
