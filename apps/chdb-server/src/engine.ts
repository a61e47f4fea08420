import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Session } from 'chdb';

/**
 * One chDB connection (a Session) on the server's data path, driven through
 * chDB's native addon rather than the Session's JS methods:
 *
 * - Results stream (`StreamQuery`/`StreamFetch`): output goes to the client as
 *   the engine makes it, memory stays bounded, and a failed query leaves nothing
 *   behind (`queryAsync` keeps a failed query's partial output on the Session
 *   and hands it to the next query on it).
 * - The raw insert entry takes the payload as bytes and returns the engine's
 *   own written-row count (X-ClickHouse-Summary's written_rows).
 *
 * A connection runs one operation at a time, and destroying it while an
 * operation is on a libuv thread aborts the whole engine; so every native call
 * is tracked, and close() waits for the one in flight.
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

interface NativeChunk {
  bytes?: Uint8Array;
  numRows: number;
  done: boolean;
}

interface NativeAddon {
  QueryAsyncConnection(connection: unknown, sql: string, format: string): Promise<NativeQueryResult>;
  InsertRawAsyncConnection(
    connection: unknown,
    prefix: string,
    data: Buffer,
    countLines: boolean,
  ): Promise<NativeInsertResult>;
  StreamQuery(connection: unknown, sql: string, format: string): unknown;
  StreamFetch(handle: unknown): Promise<NativeChunk>;
  StreamCancel(handle: unknown): void;
}

let addonInstance: NativeAddon | undefined;

function addon(): NativeAddon {
  if (addonInstance) return addonInstance;
  const require = createRequire(import.meta.url);
  const chdbDir = dirname(require.resolve('chdb'));
  // An absolute path, because chdb's package.json does not export ./dist/*;
  // chDB's own loader, so this is the very addon instance the Session uses.
  const loader = require(join(chdbDir, 'dist', 'loader.js')) as { loadNative(): NativeAddon };
  const a = loader.loadNative();
  for (const fn of ['QueryAsyncConnection', 'InsertRawAsyncConnection', 'StreamQuery', 'StreamFetch', 'StreamCancel'] as const) {
    if (typeof a[fn] !== 'function') throw new Error(`this chdb build lacks ${fn}`);
  }
  addonInstance = a;
  return a;
}

export interface InsertOutput {
  elapsed: number;
  rowsWritten: number;
  bytesWritten: number;
}

export interface Chunk {
  bytes: Buffer;
  rows: number;
}

/** Output pulled one block at a time; release() frees what is left. */
export interface ChunkSource {
  next(): Promise<Chunk | undefined>;
  release(): void;
}

/** A running query's output, pulled one engine block at a time. */
export class ResultStream implements ChunkSource {
  readonly #conn: Connection;
  readonly #handle: unknown;
  #done = false;

  constructor(conn: Connection, handle: unknown) {
    this.#conn = conn;
    this.#handle = handle;
  }

  /** The next block of output, or undefined at the end. Throws the engine's error. */
  async next(): Promise<Chunk | undefined> {
    if (this.#done) return undefined;
    try {
      const c = await this.#conn.track(addon().StreamFetch(this.#handle));
      if (c.done) {
        this.release();
        return undefined;
      }
      const b = c.bytes ?? new Uint8Array(0);
      return { bytes: Buffer.from(b.buffer, b.byteOffset, b.byteLength), rows: c.numRows };
    } catch (e) {
      this.release();
      throw e;
    }
  }

  /**
   * Frees the engine's stream. It must not run under a fetch in flight (the
   * fetch reads the handle without a lock), so it waits behind one; stopping a
   * query that is still computing is `KILL QUERY`'s job, not this.
   */
  release(): void {
    if (this.#done) return;
    this.#done = true;
    const destroy = (): void => {
      try {
        addon().StreamCancel(this.#handle);
      } catch {
        // Already gone with its query's end: nothing left to free.
      }
    };
    void this.#conn.afterCurrent(destroy);
  }
}

export class Connection {
  readonly #session: Session;
  #inflight: Promise<unknown> | undefined;
  #closed = false;

  private constructor(session: Session) {
    this.#session = session;
  }

  /**
   * `args` are settings as `--name=value`: chDB applies them to this connection
   * only, before any query, at no extra round trip.
   */
  static open(dataPath: string, args: readonly string[] = []): Connection {
    addon();
    return new Connection(new Session(dataPath, { connectionArgs: [...args] }));
  }

  get closed(): boolean {
    return this.#closed;
  }

  #native(): unknown {
    const c = this.#session.connection;
    if (this.#closed || c == null) throw new Error('the chDB connection is closed');
    return c;
  }

  /** Marks `op` as this connection's operation in flight until it settles. */
  track<T>(op: Promise<T>): Promise<T> {
    const settled = op.then(
      () => undefined,
      () => undefined,
    );
    this.#inflight = settled;
    void settled.then(() => {
      if (this.#inflight === settled) this.#inflight = undefined;
    });
    return op;
  }

  /** Runs `fn` once no operation is in flight on this connection. */
  async afterCurrent(fn: () => void): Promise<void> {
    while (this.#inflight) await this.#inflight;
    fn();
  }

  /**
   * A statement whose output is small and ours (SET, USE, KILL, lookups). Runs
   * buffered, so a failure here could leave bytes on the connection: callers only
   * use it on connections they then either discard or that produce no output.
   */
  async exec(sql: string, format = 'TabSeparated'): Promise<Buffer> {
    const r = await this.track(addon().QueryAsyncConnection(this.#native(), sql, format));
    return Buffer.from(r.bytes.buffer, r.bytes.byteOffset, r.bytes.byteLength);
  }

  stream(sql: string, format: string): ResultStream {
    return new ResultStream(this, addon().StreamQuery(this.#native(), sql, format));
  }

  /** Runs `statement` with `data` as its inline payload (what follows `FORMAT x`, or `VALUES`). */
  async insert(statement: string, data: Buffer): Promise<InsertOutput> {
    const r = await this.track(addon().InsertRawAsyncConnection(this.#native(), statement, data, false));
    return { elapsed: r.elapsed, rowsWritten: r.rowsWritten, bytesWritten: r.bytesWritten };
  }

  /** Closes once nothing runs on the connection. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    while (this.#inflight) await this.#inflight;
    this.#session.close();
  }
}
