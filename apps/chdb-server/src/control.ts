import { Connection } from './engine.js';
import { Codes, chError } from './errors.js';

interface Lane {
  conn: Connection;
  tail: Promise<unknown>;
  queued: number;
}

/** Rows and bytes a running query has read so far, from the engine's process list. */
export interface Progress {
  readRows: number;
  readBytes: number;
  totalRowsToRead: number;
}

// A few lanes, so stopping a query or reading a request's progress never waits
// behind more than a couple of these short statements.
const LANES = 3;

/**
 * The server's own connections, outside every request's lane: they hold the
 * data path for the server's lifetime, read the engine's facts at start, stop
 * running queries and read their progress. Their statements are short.
 */
export class Control {
  readonly #lanes: Lane[];

  private constructor(conns: Connection[]) {
    this.#lanes = conns.map((conn) => ({ conn, tail: Promise.resolve(), queued: 0 }));
  }

  static open(dataPath: string, baseArgs: readonly string[]): Control {
    return new Control(Array.from({ length: LANES }, () => Connection.open(dataPath, baseArgs)));
  }

  run(sql: string, format = 'TabSeparated'): Promise<Buffer> {
    const lane = this.#lanes.reduce((a, b) => (b.queued < a.queued ? b : a));
    lane.queued++;
    const job = lane.tail.then(() => lane.conn.exec(sql, format));
    lane.tail = job.catch(() => undefined).finally(() => lane.queued--);
    return job;
  }

  /**
   * What the query on the connection carrying `marker` has read so far; undefined
   * once it has left the process list (chDB keeps a streamed query there until
   * its end-of-stream is fetched).
   */
  async progress(marker: string): Promise<Progress | undefined> {
    const [row] = await this.rows(
      `SELECT read_rows, read_bytes, total_rows_approx FROM system.processes WHERE Settings['log_comment'] = '${marker.replace(/'/g, "\\'")}'`,
    );
    if (!row) return undefined;
    return { readRows: Number(row.read_rows), readBytes: Number(row.read_bytes), totalRowsToRead: Number(row.total_rows_approx) };
  }

  async rows(sql: string): Promise<Record<string, string>[]> {
    return (await this.run(sql, 'JSONEachRow'))
      .toString('utf8')
      .split('\n')
      .filter((l) => l.length > 0)
      .map((l) => JSON.parse(l) as Record<string, string>);
  }

  /**
   * Stops the query running on the connection that carries `marker`, as KILL
   * QUERY does on a server: the engine notices within one block. ASYNC, because
   * chDB's SYNC form waits forever.
   */
  async kill(marker: string): Promise<void> {
    await this.run(`KILL QUERY WHERE Settings['log_comment'] = '${marker.replace(/'/g, "\\'")}' ASYNC`);
  }

  async close(): Promise<void> {
    await Promise.all(this.#lanes.map((l) => l.tail.then(() => l.conn.close())));
  }
}

export interface RunningQuery {
  readonly queryId: string;
  readonly user: string;
  readonly sql: string;
  readonly marker: string;
  readonly startedAt: number;
  /** Stops the query and makes its request answer with the cancellation. */
  cancel(): Promise<void>;
}

/** The requests running now, by the query_id their clients know them by. */
export class RunningQueries {
  readonly #byId = new Map<string, RunningQuery>();
  readonly #perUser = new Map<string, number>();

  /** Registers a query; refuses a query_id already running, as a server does (216). */
  add(q: RunningQuery, maxForUser: number): () => void {
    if (this.#byId.has(q.queryId)) {
      throw chError(
        Codes.QUERY_WITH_SAME_ID_IS_ALREADY_RUNNING,
        `Query with id = ${q.queryId} is already running`,
      );
    }
    const n = this.#perUser.get(q.user) ?? 0;
    if (maxForUser > 0 && n >= maxForUser) {
      throw chError(
        Codes.TOO_MANY_SIMULTANEOUS_QUERIES,
        `Too many simultaneous queries for user ${q.user}. Current: ${n}, maximum: ${maxForUser}`,
      );
    }
    this.#byId.set(q.queryId, q);
    this.#perUser.set(q.user, n + 1);
    return () => {
      if (this.#byId.get(q.queryId) !== q) return;
      this.#byId.delete(q.queryId);
      this.#perUser.set(q.user, (this.#perUser.get(q.user) ?? 1) - 1);
    };
  }

  get(queryId: string): RunningQuery | undefined {
    return this.#byId.get(queryId);
  }

  all(): RunningQuery[] {
    return [...this.#byId.values()];
  }
}
