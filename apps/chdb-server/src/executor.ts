import type { Logger } from 'pino';
import { Engine, type InsertOutput, type QueryOutput } from './engine.js';
import { ClickHouseError, Codes, chError, fromEngineError } from './errors.js';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isBinaryFormat } from './formats.js';
import { formatClause, leadingKeyword, mayChangeDatabase, mayChangeSettings } from './sql-sniff.js';

export interface ExecRequest {
  /** The statement: the `query` URL param, or the whole body when there is none. */
  sql: string;
  /** What follows the statement (the body when `query` came as a param); may be empty. */
  data: Buffer;
  /** Output format unless the statement has its own FORMAT clause (which the engine lets win). */
  format: string;
  /** Applied in order, for this request only. */
  settings: ReadonlyArray<readonly [string, string]>;
  /** `param_<name>` values, still in ClickHouse's escaped text form. */
  queryParams: Readonly<Record<string, string>>;
  database: string | undefined;
}

/** X-ClickHouse-Summary: every value a string, as the server sends it. */
export type Summary = Record<
  | 'read_rows'
  | 'read_bytes'
  | 'written_rows'
  | 'written_bytes'
  | 'total_rows_to_read'
  | 'result_rows'
  | 'result_bytes'
  | 'elapsed_ns',
  string
>;

export interface ExecResult {
  kind: 'insert' | 'query';
  body: Buffer;
  summary: Summary;
}

const EMPTY = Buffer.alloc(0);
const SETTING_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function nanos(seconds: number): string {
  return String(Math.max(0, Math.round(seconds * 1e9)));
}

// chDB reports the rows and in-memory bytes of the result set; it has no
// separate counter of rows scanned, so read_* mirrors result_*.
function querySummary(out: QueryOutput): Summary {
  return {
    read_rows: String(out.rows),
    read_bytes: String(out.bytesRead),
    written_rows: '0',
    written_bytes: '0',
    total_rows_to_read: '0',
    result_rows: String(out.rows),
    result_bytes: String(out.bytesRead),
    elapsed_ns: nanos(out.elapsed),
  };
}

// An INSERT reads exactly the rows it writes; a server reports both, and
// result_* too since 23.x.
function insertSummary(out: InsertOutput): Summary {
  const rows = String(out.rowsWritten);
  const bytes = String(out.bytesWritten);
  return {
    read_rows: rows,
    read_bytes: bytes,
    written_rows: rows,
    written_bytes: bytes,
    total_rows_to_read: '0',
    result_rows: rows,
    result_bytes: bytes,
    elapsed_ns: nanos(out.elapsed),
  };
}

function quoteString(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function setStatement(settings: ReadonlyArray<readonly [string, string]>): string {
  return `SET ${settings.map(([k, v]) => `${k} = ${quoteString(v)}`).join(', ')}`;
}

function quoteIdentifier(name: string): string {
  return `\`${name.replace(/\\/g, '\\\\').replace(/`/g, '\\`')}\``;
}

/**
 * Runs HTTP requests on the single chDB session, one at a time. chDB keeps SET
 * and USE on the session, while a ClickHouse server scopes URL settings and the
 * `database` param to one request; so each request is wrapped in
 * set-up/undo, and that only works if no other request interleaves.
 */
export class Executor {
  readonly #engine: Engine;
  readonly #log: Logger;
  /** Settings chDB itself changes from the engine defaults; DEFAULT must come back to these. */
  readonly #baseline: ReadonlyMap<string, string>;
  readonly #allSettings: readonly string[];
  readonly timezone: string;
  #tail: Promise<void> = Promise.resolve();
  #closing: Promise<void> | undefined;

  private constructor(
    engine: Engine,
    log: Logger,
    baseline: ReadonlyMap<string, string>,
    allSettings: readonly string[],
    timezone: string,
  ) {
    this.#engine = engine;
    this.#log = log;
    this.#baseline = baseline;
    this.#allSettings = allSettings;
    this.timezone = timezone;
  }

  static async open(dataPath: string, log: Logger): Promise<Executor> {
    const engine = Engine.open(dataPath);
    try {
      // chDB enables implicit_select for clickhouse-local convenience; a server
      // has it off, and with it on a typo answers UNKNOWN_IDENTIFIER instead of
      // SYNTAX_ERROR.
      await engine.query('SET implicit_select = 0', 'TabSeparated');
      const rows = async (sql: string): Promise<Record<string, string>[]> =>
        (await engine.query(sql, 'JSONEachRow')).bytes
          .toString('utf8')
          .split('\n')
          .filter((l) => l.length > 0)
          .map((l) => JSON.parse(l) as Record<string, string>);
      const changed = await rows('SELECT name, value FROM system.settings WHERE changed');
      const all = await rows('SELECT name FROM system.settings');
      const [tz] = await rows('SELECT serverTimezone() AS tz');
      return new Executor(
        engine,
        log,
        new Map(changed.map((r) => [String(r.name), String(r.value)])),
        all.map((r) => String(r.name)).filter((n) => SETTING_NAME.test(n)),
        tz?.tz ?? 'UTC',
      );
    } catch (e) {
      engine.close();
      throw e;
    }
  }

  run(req: ExecRequest): Promise<ExecResult> {
    if (this.#closing) {
      return Promise.reject(chError(Codes.STD_EXCEPTION, 'The server is shutting down'));
    }
    const job = this.#tail.then(() => this.#execute(req));
    this.#tail = job.then(
      () => undefined,
      () => undefined,
    );
    return job;
  }

  /** Waits for queued requests, then closes the session. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#tail.then(() => this.#engine.close());
    return this.#closing;
  }

  async #execute(req: ExecRequest): Promise<ExecResult> {
    for (const [name] of req.settings) {
      if (!SETTING_NAME.test(name)) {
        throw chError(Codes.UNKNOWN_SETTING, `Unknown setting '${name}'`);
      }
    }
    const bound = Object.keys(req.queryParams).length > 0;
    // The raw insert path keeps the payload as bytes and reports written rows,
    // but has no parameter binding: parametrized INSERTs take the query path
    // and report written_rows 0.
    const insert = !bound && leadingKeyword(req.sql) === 'INSERT';
    const sql =
      insert || req.data.length === 0 ? req.sql : `${req.sql}\n${req.data.toString('utf8')}`;
    // The session sits in `default` between requests, so only other databases need a USE.
    const database = req.database && req.database !== 'default' ? req.database : undefined;
    try {
      if (database !== undefined) await this.#admin(`USE ${quoteIdentifier(database)}`);
      if (req.settings.length > 0) await this.#admin(setStatement(req.settings));
      return await this.#statement(insert, sql, req, bound);
    } finally {
      await this.#undo(sql, req.settings, database !== undefined);
    }
  }

  async #statement(
    insert: boolean,
    sql: string,
    req: ExecRequest,
    bound: boolean,
  ): Promise<ExecResult> {
    try {
      if (insert) {
        const out = isBinaryFormat(formatClause(sql)) ? await this.#insertFromFile(sql, req.data) : await this.#engine.insert(sql, req.data);
        return { kind: 'insert', body: EMPTY, summary: insertSummary(out) };
      }
      const params = bound ? { ...req.queryParams } : undefined;
      const out = await this.#engine.query(sql, req.format, params);
      return { kind: 'query', body: out.bytes, summary: querySummary(out) };
    } catch (e) {
      const err = fromEngineError(e);
      // The check lives in clickhouse-client, which chDB embeds; a server
      // accepts an INSERT with an empty body and writes nothing.
      if (err.code === Codes.NO_DATA_TO_INSERT) {
        return {
          kind: 'insert',
          body: EMPTY,
          summary: insertSummary({ elapsed: 0, rowsWritten: 0, bytesWritten: 0 }),
        };
      }
      throw err;
    }
  }

  /**
   * chDB's raw insert entry reads only the first few tens of KB of a binary body
   * (RowBinary, Native, Parquet, …) and reports success: rows were silently lost.
   * Its `FROM INFILE` reads a whole file, so a binary body goes through one, the
   * statement's trailing `FORMAT x` becoming `FROM INFILE '<file>' FORMAT x`.
   */
  async #insertFromFile(sql: string, data: Buffer): Promise<InsertOutput> {
    const m = /\bFORMAT\s+[A-Za-z][A-Za-z0-9_]*\s*;?\s*$/i.exec(sql);
    if (!m) throw chError(Codes.SYNTAX_ERROR, 'a binary INSERT must end with its FORMAT clause (INSERT INTO t [(columns)] FORMAT RowBinary)');
    const dir = await mkdtemp(join(tmpdir(), 'chdb-insert-'));
    try {
      const file = join(dir, 'body');
      await writeFile(file, data);
      const rewritten = `${sql.slice(0, m.index)}FROM INFILE '${file}' ${m[0]}`;
      return await this.#engine.insert(rewritten, EMPTY);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  async #admin(sql: string): Promise<void> {
    try {
      await this.#engine.query(sql, 'TabSeparated');
    } catch (e) {
      throw fromEngineError(e);
    }
  }

  /**
   * Puts the session back the way the next request expects it. Failures are
   * logged, not thrown: the request's own outcome is what the client needs.
   */
  async #undo(
    sql: string,
    settings: ReadonlyArray<readonly [string, string]>,
    usedDatabase: boolean,
  ): Promise<void> {
    const step = async (what: string, statement: string): Promise<void> => {
      try {
        await this.#admin(statement);
      } catch (e) {
        const err = e instanceof ClickHouseError ? e : fromEngineError(e);
        this.#log.error({ err: err.message, step: what }, 'could not restore the chDB session');
      }
    };
    // A SET inside the SQL could have touched any setting, so reset them all.
    const everything = mayChangeSettings(sql);
    const names = everything ? this.#allSettings : settings.map(([k]) => k);
    if (names.length > 0) {
      // DEFAULT first: it is allowed even under readonly, and lifts readonly
      // before the baseline values (which need it lifted) are written back.
      await step('reset settings', `SET ${names.map((n) => `${n} = DEFAULT`).join(', ')}`);
      const restore = [...this.#baseline].filter(([k]) => everything || names.includes(k));
      if (restore.length > 0) {
        await step('restore settings', setStatement(restore));
      }
    }
    if (usedDatabase || mayChangeDatabase(sql)) await step('reset database', 'USE default');
  }
}
