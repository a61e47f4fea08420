import { randomUUID } from 'node:crypto';
import { Connection } from './engine.js';
import { Codes, chError } from './errors.js';
import type { User } from './users.js';

/**
 * Where each request runs. Every request without a session_id gets a new chDB
 * connection of its own and the connection is closed when the request ends: no
 * setting, database, temporary table or leftover output can reach another
 * request, by construction, and requests run in parallel. Opening one costs
 * about 2 ms. A `session_id` names a connection that lives across requests, as
 * a server's HTTP session: its own SETs and temporary tables, one query at a
 * time, closed after `session_timeout` seconds idle.
 *
 * Each connection carries a marker in `log_comment`, so its running query can
 * be found in system.processes and stopped from another connection.
 */
export interface Lease {
  readonly conn: Connection;
  readonly marker: string;
  /** True for a named session: state persists, so the request must undo its own changes. */
  readonly persistent: boolean;
  /**
   * The query's output is complete and only our own bookkeeping (undoing URL
   * settings) is left: a client that got its answer may send the session's next
   * request now, and that request waits for release() instead of being refused.
   */
  finishing(): void;
  /** Ends the request's use: closes a one-off connection, unlocks a named one. */
  release(): Promise<void>;
}

interface Named {
  conn: Connection;
  marker: string;
  owner: string;
  timeoutMs: number;
  lastUsed: number;
  busy: boolean;
  /** Set while a finished request undoes its settings; resolves at release. */
  settling: Promise<void> | undefined;
}

const DEFAULT_TIMEOUT_S = 60;
const MAX_TIMEOUT_S = 3600;

export class SessionStore {
  readonly #dataPath: string;
  readonly #baseArgs: readonly string[];
  readonly #named = new Map<string, Named>();
  readonly #sweeper: NodeJS.Timeout;

  constructor(dataPath: string, baseArgs: readonly string[]) {
    this.#dataPath = dataPath;
    this.#baseArgs = baseArgs;
    this.#sweeper = setInterval(() => void this.#sweep(), 1000);
    this.#sweeper.unref();
  }

  #open(user: User, extra: readonly string[]): { conn: Connection; marker: string } {
    const marker = `chdb-server:${randomUUID()}`;
    const args = [
      ...this.#baseArgs,
      ...user.profile.settings.map(([k, v]) => `--${k}=${v}`),
      ...extra,
      `--log_comment=${marker}`,
    ];
    return { conn: Connection.open(this.#dataPath, args), marker };
  }

  /**
   * A connection for the server's own use (checking a query, src/access.ts): no
   * user's profile, only `settings`; the caller closes it.
   */
  scratch(settings: ReadonlyArray<readonly [string, string]>): Connection {
    return Connection.open(this.#dataPath, [...this.#baseArgs, ...settings.map(([k, v]) => `--${k}=${v}`)]);
  }

  /** A connection used by this request alone. `extra` are more `--name=value` settings. */
  oneOff(user: User, extra: readonly string[] = []): Lease {
    const { conn, marker } = this.#open(user, extra);
    return { conn, marker, persistent: false, finishing: () => undefined, release: () => conn.close() };
  }

  /**
   * The named session, locked for this request. `check` (session_check=1) asks
   * for an existing one only. A session belongs to the user who opened it.
   */
  async named(id: string, user: User, timeoutParam: string | null, check: boolean): Promise<Lease> {
    let s = this.#named.get(id);
    while (s?.busy && s.settling) {
      await s.settling;
      s = this.#named.get(id);
    }
    if (s && s.owner !== user.name) {
      throw chError(Codes.SESSION_NOT_FOUND, `Session ${id} not found`);
    }
    if (!s) {
      if (check) throw chError(Codes.SESSION_NOT_FOUND, `Session ${id} not found`);
      // The profile's readonly level holds for the session's whole life; requests
      // never lift it (a one-off connection gets it per request, after URL settings).
      const readonly = user.profile.readonly !== 0 ? [`--readonly=${user.profile.readonly}`] : [];
      const { conn, marker } = this.#open(user, readonly);
      s = { conn, marker, owner: user.name, timeoutMs: 0, lastUsed: Date.now(), busy: false, settling: undefined };
      this.#named.set(id, s);
    }
    if (s.busy) {
      throw chError(Codes.SESSION_IS_LOCKED, `Session ${id} is locked by a concurrent client`);
    }
    s.timeoutMs = timeoutOf(timeoutParam) * 1000;
    s.busy = true;
    const entry = s;
    let settled: (() => void) | undefined;
    return {
      conn: entry.conn,
      marker: entry.marker,
      persistent: true,
      finishing: () => {
        entry.settling ??= new Promise<void>((resolve) => (settled = resolve));
      },
      release: async () => {
        entry.busy = false;
        entry.lastUsed = Date.now();
        entry.settling = undefined;
        settled?.();
      },
    };
  }

  /** close_session=1: ends it now (after the request that asked). */
  async drop(id: string): Promise<void> {
    const s = this.#named.get(id);
    if (!s) return;
    this.#named.delete(id);
    await s.conn.close();
  }

  async #sweep(): Promise<void> {
    const now = Date.now();
    for (const [id, s] of this.#named) {
      if (!s.busy && now - s.lastUsed > s.timeoutMs) {
        this.#named.delete(id);
        await s.conn.close();
      }
    }
  }

  async close(): Promise<void> {
    clearInterval(this.#sweeper);
    const all = [...this.#named.values()];
    this.#named.clear();
    await Promise.all(all.map((s) => s.conn.close()));
  }
}

function timeoutOf(param: string | null): number {
  if (param === null || param === '') return DEFAULT_TIMEOUT_S;
  const n = Number(param);
  if (!Number.isInteger(n) || n < 0 || n > MAX_TIMEOUT_S) {
    throw chError(
      Codes.BAD_ARGUMENTS,
      `Invalid session timeout: '${param}' (an integer number of seconds up to ${MAX_TIMEOUT_S})`,
    );
  }
  return n;
}
