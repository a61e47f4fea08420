import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Session } from 'chdb';

/**
 * chDB's Session owns the connection's lifecycle, but two things the HTTP
 * interface needs are only reachable one layer down, on the same native addon
 * the Session itself calls:
 *
 * - Bound parameters must reach the engine exactly as they came over HTTP.
 *   `param_x` values arrive already in ClickHouse's escaped text form (a quote
 *   as `\'`, a tab as `\t`, arrays as `['a\'b']`); `Session.queryBindAsync`
 *   escapes string values a second time, so `it's` would bind as `it\'s`.
 * - `Session.queryAsync` reports no written-row counter. The raw insert entry
 *   returns the engine's own `rows_written` (the value a server puts in
 *   X-ClickHouse-Summary) and takes the payload as bytes, so binary formats
 *   pass through untouched.
 *
 * The addon is loaded through chDB's own loader module, so this is the very
 * instance (and connection handle type) the Session uses.
 */
interface NativeQueryResult {
  bytes: Uint8Array;
  elapsed: number;
  rowsRead: number;
  bytesRead: number;
}

interface NativeInsertResult {
  elapsed: number;
  rowsWritten: number;
  bytesWritten: number;
}

interface NativeAddon {
  QueryAsyncConnection(
    connection: unknown,
    sql: string,
    format: string,
    params?: Record<string, string>,
  ): Promise<NativeQueryResult>;
  InsertRawAsyncConnection(
    connection: unknown,
    prefix: string,
    data: Buffer,
    countLines: boolean,
  ): Promise<NativeInsertResult>;
}

function loadAddon(): NativeAddon {
  const require = createRequire(import.meta.url);
  const chdbDir = dirname(require.resolve('chdb'));
  // An absolute path, because chdb's package.json does not export ./dist/*.
  const loader = require(join(chdbDir, 'dist', 'loader.js')) as { loadNative(): NativeAddon };
  const addon = loader.loadNative();
  if (
    typeof addon.QueryAsyncConnection !== 'function' ||
    typeof addon.InsertRawAsyncConnection !== 'function'
  ) {
    throw new Error('this chdb build lacks QueryAsyncConnection/InsertRawAsyncConnection');
  }
  return addon;
}

export interface QueryOutput {
  bytes: Buffer;
  /** Seconds, as the engine measured it. */
  elapsed: number;
  /** Rows and in-memory bytes of the result set, as chDB reports them. */
  rows: number;
  bytesRead: number;
}

export interface InsertOutput {
  elapsed: number;
  rowsWritten: number;
  bytesWritten: number;
}

/** One chDB connection. Not safe for overlapping calls; the executor serializes them. */
export class Engine {
  readonly #session: Session;
  readonly #addon: NativeAddon;

  private constructor(session: Session, addon: NativeAddon) {
    this.#session = session;
    this.#addon = addon;
  }

  static open(dataPath: string): Engine {
    const addon = loadAddon();
    return new Engine(new Session(dataPath), addon);
  }

  #connection(): unknown {
    const c = this.#session.connection;
    if (c == null) throw new Error('the chDB session is closed');
    return c;
  }

  async query(sql: string, format: string, params?: Record<string, string>): Promise<QueryOutput> {
    const conn = this.#connection();
    const r = params
      ? await this.#addon.QueryAsyncConnection(conn, sql, format, params)
      : await this.#addon.QueryAsyncConnection(conn, sql, format);
    return {
      bytes: Buffer.from(r.bytes.buffer, r.bytes.byteOffset, r.bytes.byteLength),
      elapsed: r.elapsed,
      rows: r.rowsRead,
      bytesRead: r.bytesRead,
    };
  }

  /** Runs `statement` with `data` as its inline payload (what follows `FORMAT x`, or `VALUES`). */
  async insert(statement: string, data: Buffer): Promise<InsertOutput> {
    const r = await this.#addon.InsertRawAsyncConnection(this.#connection(), statement, data, false);
    return { elapsed: r.elapsed, rowsWritten: r.rowsWritten, bytesWritten: r.bytesWritten };
  }

  /** Callers must have no call in flight: closing under a running query aborts the engine. */
  close(): void {
    this.#session.close();
  }
}
