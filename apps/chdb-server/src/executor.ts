import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AccessCheck } from './access.js';
import type { Progress } from './control.js';
import type { Chunk, ChunkSource, Connection, InsertOutput } from './engine.js';
import { ClickHouseError, Codes, chError, fromEngineError } from './errors.js';
import { headerLength, isBinaryFormat, outputMode } from './formats.js';
import type { QueryRequest } from './protocol.js';
import { substituteParams } from './query-params.js';
import type { Lease, SessionStore } from './sessions.js';
import { formatClause, leadingKeyword, settingAssignments } from './sql-sniff.js';
import { checkConstraint, type User } from './users.js';
import { stricterReadonly } from './protocol.js';

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

export type Started =
  | { kind: 'insert'; summary: Summary }
  /** `first` is the first block, or undefined for an empty result. */
  | { kind: 'query'; stream: ChunkSource; first: Chunk | undefined; format: string }
  /** A statement the engine cannot stream (DDL, SET, SYSTEM …): its whole, small output. */
  | { kind: 'whole'; body: Buffer; format: string };

// chDB streams SELECT-like statements only, and says so for the rest.
const NOT_STREAMABLE = /Streaming query is not supported/;

const EMPTY = Buffer.alloc(0);
// From this size on, a text body is inserted from a file (see #insertFromFile): below
// it the two cost the same.
export const INFILE_FROM_BYTES = 256 * 1024;
// input() as a table function, not a column or a string that happens to say input(.
const INPUT_FUNCTION = /\bFROM\s+input\s*\(/i;
const TRAILING_FORMAT = /\bFORMAT\s+[A-Za-z][A-Za-z0-9_]*\s*;?\s*$/i;
const SETTING_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function nanos(seconds: number): string {
  return String(Math.max(0, Math.round(seconds * 1e9)));
}

/**
 * read_* and total_rows_to_read come from the engine's process list (`read`),
 * sampled while the query ran; without a sample (a statement that never
 * streamed) they fall back to the result's own size.
 */
export function querySummary(rows: number, bytes: number, elapsedSeconds: number, read?: Progress): Summary {
  return {
    read_rows: String(read?.readRows ?? rows),
    read_bytes: String(read?.readBytes ?? bytes),
    written_rows: '0',
    written_bytes: '0',
    total_rows_to_read: String(read?.totalRowsToRead ?? 0),
    result_rows: String(rows),
    result_bytes: String(bytes),
    elapsed_ns: nanos(elapsedSeconds),
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

function quoteIdentifier(name: string): string {
  return `\`${name.replace(/\\/g, '\\\\').replace(/`/g, '\\`')}\``;
}

function setStatement(settings: ReadonlyArray<readonly [string, string]>): string {
  return `SET ${settings.map(([k, v]) => `${k} = ${quoteString(v)}`).join(', ')}`;
}

/** What a request changed on a named session, to put back when it ends. */
/** Bound text shorter than this is not checked against max_query_size (ClickHouse's default is 262,144). */
const BOUND_SIZE_CHECK_FROM = 16_384;

export interface Undo {
  settings: Array<[string, string]>;
  database: string | undefined;
}

/**
 * Puts a request on a connection and starts its statement. One-off connections
 * get the user's profile and the request's readonly level as connection
 * settings (no round trip) and are thrown away after; named sessions get the
 * request's settings and database for that request only, as on a server.
 */
export class Executor {
  readonly #sessions: SessionStore;
  readonly #access: AccessCheck;

  constructor(sessions: SessionStore, access: AccessCheck) {
    this.#sessions = sessions;
    this.#access = access;
  }

  /** Checks the request against the user's constraints before anything runs. */
  #validate(user: User, q: QueryRequest): void {
    for (const [name, value] of q.settings) {
      if (!SETTING_NAME.test(name)) throw chError(Codes.UNKNOWN_SETTING, `Unknown setting '${name}'`);
      const err = checkConstraint(user.profile, name, value);
      if (err) throw err;
    }
    if (user.profile.constraints.size > 0) {
      for (const [name, value] of settingAssignments(q.sql)) {
        const err = checkConstraint(user.profile, name, value);
        if (err) throw err;
      }
    }
  }

  async lease(user: User, q: QueryRequest): Promise<{ lease: Lease; undo: Undo | undefined }> {
    this.#validate(user, q);
    const readonly = stricterReadonly(user.profile.readonly, q.readonly);
    if (q.session) {
      const lease = await this.#sessions.named(q.session.id, user, q.session.timeout, q.session.check);
      try {
        return { lease, undo: await this.#applyToNamed(lease.conn, q) };
      } catch (e) {
        await lease.release();
        throw e;
      }
    }
    // Readonly goes last: under readonly=1 no later SET would be allowed.
    const urlSettings = q.settings.length > 0;
    const extra = !urlSettings && readonly !== 0 ? [`--readonly=${readonly}`] : [];
    const lease = this.#sessions.oneOff(user, extra);
    try {
      if (urlSettings) {
        const all: Array<readonly [string, string]> = [...q.settings];
        if (readonly !== 0) all.push(['readonly', String(readonly)]);
        await this.#admin(lease.conn, setStatement(all));
      }
      if (q.database && q.database !== 'default') {
        await this.#admin(lease.conn, `USE ${quoteIdentifier(q.database)}`);
      }
      return { lease, undo: undefined };
    } catch (e) {
      await lease.release();
      throw e;
    }
  }

  async #applyToNamed(conn: Connection, q: QueryRequest): Promise<Undo> {
    const undo: Undo = { settings: [], database: undefined };
    if (q.settings.length > 0) {
      const names = q.settings.map(([k]) => quoteString(k)).join(', ');
      const before = (await this.#admin(conn, `SELECT name, value FROM system.settings WHERE name IN (${names})`, 'TabSeparatedRaw'))
        .toString('utf8')
        .split('\n')
        .filter((l) => l.length > 0)
        .map((l) => l.split('\t') as [string, string]);
      undo.settings = before;
      await this.#admin(conn, setStatement(q.settings));
    }
    if (q.database) {
      undo.database = (await this.#admin(conn, 'SELECT currentDatabase()', 'TabSeparatedRaw')).toString('utf8').trim();
      await this.#admin(conn, `USE ${quoteIdentifier(q.database)}`);
    }
    return undo;
  }

  /** Puts a named session back the way the request found it; failures only cost the session's tidiness. */
  async restore(lease: Lease, undo: Undo | undefined): Promise<void> {
    if (!undo) return;
    if (undo.settings.length > 0) await this.#admin(lease.conn, setStatement(undo.settings)).catch(() => undefined);
    if (undo.database) await this.#admin(lease.conn, `USE ${quoteIdentifier(undo.database)}`).catch(() => undefined);
  }

  async #admin(conn: Connection, sql: string, format = 'TabSeparated'): Promise<Buffer> {
    try {
      return await conn.exec(sql, format);
    } catch (e) {
      throw fromEngineError(e);
    }
  }

  /**
   * Starts the statement: an INSERT runs to its end; a query returns its stream.
   * A user with grants gets the statement checked first (src/access.ts), and
   * what runs is the text that was checked.
   */
  async start(conn: Connection, q: QueryRequest, persistent: boolean, user: User, undo?: Undo): Promise<Started> {
    const insert = leadingKeyword(q.sql) === 'INSERT';
    const bind = async (text: string): Promise<string> => {
      if (Object.keys(q.queryParams).length === 0) return text;
      const bound = substituteParams(text, q.queryParams);
      await this.#fitQuerySize(conn, text.length, bound.length, undo);
      return bound;
    };
    // Statements the server wrote itself (the answer to KILL QUERY) need no check.
    const checked = async (text: string): Promise<string> => (q.serverBuilt ? text : this.#access.check(conn, user, text, persistent));
    try {
      // An INSERT's body is data; any other body continues the statement's text.
      if (insert) {
        const statement = await bind(q.sql);
        await checked(statement);
        return await this.#insert(conn, statement, q.data);
      }
      const sql = await checked(await bind(q.data.length === 0 ? q.sql : `${q.sql}\n${q.data.toString('utf8')}`));
      return await this.#query(conn, sql, q.defaultFormat, persistent);
    } catch (e) {
      const err = e instanceof ClickHouseError ? e : fromEngineError(e);
      // The check lives in clickhouse-client, which chDB embeds; a server
      // accepts an INSERT with an empty body and writes nothing.
      if (insert && err.code === Codes.NO_DATA_TO_INSERT) {
        return { kind: 'insert', summary: insertSummary({ elapsed: 0, rowsWritten: 0, bytesWritten: 0 }) };
      }
      throw err;
    }
  }

  /**
   * ClickHouse binds parameters after parsing, so max_query_size limits the text as
   * sent. Here the values are in the text the engine parses; when they carry it past
   * the limit that the sent text kept to, the limit is raised for this statement (and
   * put back with the request's other settings in a named session).
   */
  async #fitQuerySize(conn: Connection, sentLength: number, boundLength: number, undo: Undo | undefined): Promise<void> {
    // Below ClickHouse's smallest sensible limit nothing can be carried past it; spare the round trip.
    if (boundLength <= sentLength || boundLength < BOUND_SIZE_CHECK_FROM) return;
    const limit = Number((await this.#admin(conn, "SELECT getSetting('max_query_size')", 'TabSeparatedRaw')).toString('utf8').trim());
    if (!(boundLength > limit && sentLength <= limit)) return;
    try {
      await this.#admin(conn, setStatement([['max_query_size', String(boundLength + 1)]]));
    } catch {
      // readonly=1 allows no SET: then the engine's own refusal is the answer.
      return;
    }
    if (undo && !undo.settings.some(([name]) => name === 'max_query_size')) undo.settings.push(['max_query_size', String(limit)]);
  }

  async #insert(conn: Connection, sql: string, data: Buffer): Promise<Started> {
    if (INPUT_FUNCTION.test(sql)) {
      throw chError(
        Codes.NOT_IMPLEMENTED,
        'INSERT … SELECT … FROM input() is not supported by this endpoint (its engine would write nothing and report success): ' +
          'insert the columns as sent, into a table whose DEFAULTs or materialized views compute the rest',
      );
    }
    const viaFile =
      data.length > 0 && (isBinaryFormat(formatClause(sql)) || (data.length >= INFILE_FROM_BYTES && TRAILING_FORMAT.test(sql)));
    const out = viaFile ? await this.#insertFromFile(conn, sql, data) : await conn.insert(sql, data);
    return { kind: 'insert', summary: insertSummary(out) };
  }

  /** Streams what can stream (see formats.ts outputMode); the rest comes whole. */
  async #query(conn: Connection, sql: string, defaultFormat: string, persistent: boolean): Promise<Started> {
    const format = formatClause(sql) ?? defaultFormat;
    const mode = outputMode(format);
    if (mode !== 'whole') {
      try {
        const raw = conn.stream(sql, defaultFormat);
        const first = await raw.next();
        if (mode === 'stream') return { kind: 'query', stream: raw, first, format };
        // An empty result streams no block, so not the header either: that one comes whole.
        if (first) {
          const header = first.bytes.subarray(0, headerLength(format, first.bytes));
          return { kind: 'query', stream: new HeaderOnce(raw, header), first, format };
        }
      } catch (e) {
        if (!(e instanceof Error && NOT_STREAMABLE.test(e.message))) throw e;
      }
    }
    return { kind: 'whole', body: await this.#buffered(conn, sql, defaultFormat, persistent), format };
  }

  /**
   * The whole output at once, for what cannot stream. A failed buffered query
   * leaves its partial output on the connection, to be prepended to the next
   * answer there: a one-off connection is thrown away anyway, a named session is
   * flushed with one throwaway query.
   */
  async #buffered(conn: Connection, sql: string, format: string, persistent: boolean): Promise<Buffer> {
    try {
      return await conn.exec(sql, format);
    } catch (e) {
      if (persistent) await conn.exec('SELECT 1').catch(() => undefined);
      throw e;
    }
  }

  /**
   * chDB's raw insert entry reads only the first few tens of KB of a binary body
   * (RowBinary, Native, Parquet, …) and reports success: rows were silently lost.
   * Its `FROM INFILE` reads a whole file, so a binary body goes through one, the
   * statement's trailing `FORMAT x` becoming `FROM INFILE '<file>' FORMAT x`. A
   * large text body too: the raw entry takes about twice as long as the file for the
   * same bytes (docs/benchmarks.md, "Inserts through the endpoint").
   */
  async #insertFromFile(conn: Connection, sql: string, data: Buffer): Promise<InsertOutput> {
    const m = TRAILING_FORMAT.exec(sql);
    if (!m) {
      throw chError(
        Codes.SYNTAX_ERROR,
        'a binary INSERT must end with its FORMAT clause (INSERT INTO t [(columns)] FORMAT RowBinary)',
      );
    }
    const dir = await mkdtemp(join(tmpdir(), 'chdb-insert-'));
    try {
      const file = join(dir, 'body');
      await writeFile(file, data);
      return await conn.insert(`${sql.slice(0, m.index)}FROM INFILE '${file}' ${m[0]}`, EMPTY);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
}

/**
 * A …WithNames(AndTypes) stream with the header once: chDB repeats it at the
 * start of every block's output. A block that does not start with it means the
 * assumption broke, and the request fails rather than send wrong bytes.
 */
class HeaderOnce implements ChunkSource {
  readonly #inner: ChunkSource;
  readonly #header: Buffer;

  /** `header`: the header as the first block (already sent) carried it. */
  constructor(inner: ChunkSource, header: Buffer) {
    this.#inner = inner;
    this.#header = header;
  }

  async next(): Promise<Chunk | undefined> {
    const c = await this.#inner.next();
    if (!c) return undefined;
    if (!c.bytes.subarray(0, this.#header.length).equals(this.#header)) {
      throw chError(Codes.STD_EXCEPTION, 'a block of the result did not start with the format header');
    }
    return { bytes: c.bytes.subarray(this.#header.length), rows: c.rows };
  }

  release(): void {
    this.#inner.release();
  }
}
