/**
 * Column-level SELECT grants for users whose users-file entry has `grants`.
 * chDB runs every connection as one engine user and gives no way to run a query
 * as another (no CREATE USER, no EXECUTE AS), so this server asks the engine
 * what a query reads and judges that (src/access-rules.ts) before running it:
 *
 *  1. formatQuery: one statement, in the engine's canonical spelling. That text
 *     is what is checked and then what runs.
 *  2. EXPLAIN QUERY TREE passes=0: the parsed query, not analysed yet. Functions
 *     that read stored data by name and table functions are judged here, because
 *     analysing a query already runs its constant parts.
 *  3. EXPLAIN QUERY TREE passes=1: the engine's own name resolution (`*`, aliases,
 *     CTEs, subqueries, USING), every column tied to the table it comes from.
 *     Analysis also runs scalar subqueries; it runs on a connection of its own
 *     where every table reads as empty (additional_table_filters), so neither the
 *     answer, nor an error, nor the time it takes depends on stored data.
 *  4. Views are judged through their own queries, as a server reads them for
 *     their invoker.
 *
 * Whatever cannot be judged this way is refused, never let through.
 */
import type { Control } from './control.js';
import type { Connection } from './engine.js';
import { ClickHouseError, Codes, chError, fromEngineError } from './errors.js';
import {
  type Catalog,
  type Judge,
  type TableInfo,
  checkStatement,
  checkUnanalysed,
  judgeReads,
  quotedLineBreak,
  refused,
  stringConstant,
  tableReads,
} from './access-rules.js';
import { MalformedTreeError, parseQueryTree } from './query-tree.js';
import type { User } from './users.js';

export interface AccessDeps {
  readonly control: Pick<Control, 'rows'>;
  /** A connection of the server's own with these settings; the caller closes it. */
  scratch(settings: ReadonlyArray<readonly [string, string]>): Connection;
}

// A view's query may read views in turn; deeper than this is refused.
const MAX_VIEW_DEPTH = 8;

/**
 * Whether a setting of the user's connection is copied to the check's. Left out:
 * what could cut the engine's answer short instead of failing it (limit, offset,
 * the *_overflow_mode that break), and what the check sets itself.
 */
function copied(name: string): boolean {
  return !(
    name.endsWith('_overflow_mode') ||
    [
      'readonly',
      'log_comment',
      'limit',
      'offset',
      'additional_table_filters',
      'additional_result_filter',
      'stream_like_engine_allow_direct_select',
      'print_pretty_type_names',
    ].includes(name)
  );
}

function literal(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

async function jsonRows(conn: Connection, sql: string): Promise<Array<Record<string, unknown>>> {
  return (await conn.exec(sql, 'JSONEachRow'))
    .toString('utf8')
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

async function explain(conn: Connection, sql: string): Promise<string[]> {
  return (await jsonRows(conn, sql)).map((r) => String(r.explain));
}

/** The `count` String values of a constant SELECT, as the engine folds them while analysing it. */
async function folded(conn: Connection, select: string, count: number): Promise<string[]> {
  const [root] = parseQueryTree(await explain(conn, `EXPLAIN QUERY TREE passes=1 ${select}`));
  const list = root?.children.find((c) => c.kind === 'PROJECTION')?.children.find((c) => c.kind === 'LIST');
  const values = (list?.children ?? []).map(stringConstant);
  if (values.length !== count || values.some((v) => v === undefined)) throw new Error(`the engine did not fold ${select}`);
  return values as string[];
}

// What a scalar subquery's own context sets (or the engine sets for it): not the
// user's. implicit_table_at_top_level is read at the top level instead.
const SUBQUERY_CONTEXT = new Set([
  'extremes',
  'max_result_rows',
  'max_result_bytes',
  'implicit_table_at_top_level',
  'use_structure_from_insertion_table_in_table_functions',
  'allow_experimental_parallel_reading_from_replicas',
  'enable_parallel_replicas',
]);

/** formatQuery's error, without the formatQuery call around the user's text. */
function parseError(e: unknown): ClickHouseError {
  const err = fromEngineError(e);
  const m = /^([\s\S]*?):? In scope SELECT formatQuery\([\s\S]*?\(([A-Z_]+)\)\s*$/.exec(err.message);
  return m ? new ClickHouseError(err.code, `${m[1]}. (${m[2]})`) : err;
}

export class AccessCheck {
  readonly #deps: AccessDeps;

  constructor(deps: AccessDeps) {
    this.#deps = deps;
  }

  /**
   * Checks `sql` for `user` on the user's connection `conn`. Returns the text to
   * run (the canonical text that was checked), or throws the refusal.
   * `persistent`: `conn` is a named session, to be left clean after a failure.
   */
  async check(conn: Connection, user: User, sql: string, persistent: boolean): Promise<string> {
    const grants = user.grants;
    if (!grants) return sql;
    const [state, catalog] = await Promise.all([this.#state(conn, persistent), this.#catalog()]);
    if (state.dialect !== 'clickhouse') throw refused(user.name, `the session's dialect is ${state.dialect}`);
    const judge: Judge = { user: user.name, grants, catalog: { ...catalog, currentDatabase: state.database } };

    // system.one holds one constant row, and every SELECT without FROM (this
    // check's own formatQuery too) reads it.
    const empty = [...catalog.tables.keys()]
      .filter((k) => k !== 'system.one')
      .map((k) => `${literal(k)}: '0'`)
      .join(', ');
    const scratch = this.#deps.scratch([
      ...state.settings.filter(([k]) => copied(k)),
      ['additional_table_filters', `{${empty}}`],
      ['stream_like_engine_allow_direct_select', '0'],
      ['print_pretty_type_names', '0'],
    ]);
    try {
      if (state.database !== 'default') await scratch.exec(`USE \`${state.database.replace(/\\/g, '\\\\').replace(/`/g, '\\`')}\``);
      let canonical: string;
      try {
        canonical = String((await jsonRows(scratch, `SELECT formatQuery(${literal(sql)}) AS q`))[0]?.q);
      } catch (e) {
        throw parseError(e);
      }
      const lines = canonical.split('\n');
      if (lines.some((l) => l.startsWith('INTO OUTFILE'))) throw refused(user.name, 'the query writes a file on the server (INTO OUTFILE)');
      if (quotedLineBreak(canonical)) throw refused(user.name, 'a name or string of the query holds a line break');
      // The trailing FORMAT only picks the output; EXPLAIN would take it as its own.
      const body = lines.filter((l) => !/^FORMAT \w+$/.test(l)).join('\n');

      let unanalysed: string[];
      try {
        unanalysed = await explain(scratch, `EXPLAIN QUERY TREE passes=0 ${body}`);
      } catch (e) {
        // Not a SELECT (EXPLAIN QUERY TREE takes nothing else): judged by its parse.
        const err = fromEngineError(e);
        const ast = await explain(scratch, `EXPLAIN AST ${body}`).catch(() => undefined);
        if (!ast || /^Select\w*Query\b/.test(ast[0] ?? '')) throw err;
        checkStatement(judge, ast);
        return canonical;
      }
      await this.#judgeSelect(scratch, judge, body, unanalysed, 0);
      return canonical;
    } catch (e) {
      if (e instanceof MalformedTreeError) throw refused(user.name, `the engine's analysis of the query could not be read (${e.message})`);
      throw e;
    } finally {
      await scratch.close();
    }
  }

  async #judgeSelect(scratch: Connection, judge: Judge, body: string, unanalysed: string[], depth: number): Promise<void> {
    checkUnanalysed(judge, parseQueryTree(unanalysed));
    const tree = parseQueryTree(await explain(scratch, `EXPLAIN QUERY TREE passes=1 ${body}`));
    const reads = tableReads(judge, tree);
    const views = judgeReads(judge, reads, await this.#columns(reads.filter((r) => !r.temporary).map((r) => r.key), judge.catalog));
    for (const view of views) await this.#judgeView(scratch, judge, view, depth + 1);
  }

  async #judgeView(scratch: Connection, judge: Judge, view: TableInfo, depth: number): Promise<void> {
    if (depth > MAX_VIEW_DEPTH || view.asSelect === '') {
      throw refused(judge.user, `the query reads the view ${view.database}.${view.name}, whose query chdb-server could not follow`);
    }
    let unanalysed: string[];
    try {
      unanalysed = await explain(scratch, `EXPLAIN QUERY TREE passes=0 ${view.asSelect}`);
    } catch {
      throw refused(judge.user, `the query reads the view ${view.database}.${view.name}, whose query chdb-server could not analyse`);
    }
    await this.#judgeSelect(scratch, judge, view.asSelect, unanalysed, depth);
  }

  /**
   * The user's connection as the query will meet it: its database and settings.
   * Read through EXPLAIN, whose answer the engine computes while analysing (constant
   * folding) and never filters or cuts short: a plain SELECT on this connection
   * would run the user's additional_result_filter and obey its limit and offset.
   */
  async #state(conn: Connection, persistent: boolean): Promise<{ database: string; dialect: string; settings: Array<[string, string]> }> {
    try {
      const [database, tableFilters, resultFilter, dialect, implicitTable] = await folded(
        conn,
        `SELECT currentDatabase(), toString(getSetting('additional_table_filters')), toString(getSetting('additional_result_filter')),
                toString(getSetting('dialect')), toString(getSetting('implicit_table_at_top_level'))`,
        5,
      );
      // Both hold SQL the engine runs with every query, outside what is checked
      // here; the read of system.settings below would run them too.
      if (tableFilters !== '{}') throw chError(Codes.SETTING_CONSTRAINT_VIOLATION, 'Setting additional_table_filters should not be changed');
      if (resultFilter !== '') throw chError(Codes.SETTING_CONSTRAINT_VIOLATION, 'Setting additional_result_filter should not be changed');
      // A scalar subquery: its result is folded into the answer, whole.
      const [changed] = await folded(conn, 'SELECT toJSONString((SELECT groupArray([name, value]) FROM system.settings WHERE changed))', 1);
      const settings = (JSON.parse(changed as string) as Array<[string, string]>).filter(([k]) => !SUBQUERY_CONTEXT.has(k));
      if (implicitTable !== '') settings.push(['implicit_table_at_top_level', implicitTable as string]);
      return { database: database as string, dialect: dialect as string, settings };
    } catch (e) {
      // A failed buffered statement may leave output behind for the session's next query.
      if (persistent) await conn.exec('EXPLAIN AST SELECT 1').catch(() => undefined);
      throw fromEngineError(e);
    }
  }

  /** Read on the server's own connections, so no setting of the user's can shorten the list. */
  async #catalog(): Promise<Omit<Catalog, 'currentDatabase'>> {
    const [tables, builtin] = await Promise.all([
      this.#deps.control.rows('SELECT database, name, engine, as_select FROM system.tables WHERE NOT is_temporary'),
      (this.#builtins ??= this.#readBuiltins()),
    ]);
    return {
      tables: new Map(
        tables.map((t) => [`${t.database}.${t.name}`, { database: String(t.database), name: String(t.name), engine: String(t.engine), asSelect: String(t.as_select ?? '') }]),
      ),
      builtin,
    };
  }

  #builtins: Promise<(name: string) => boolean> | undefined;

  /**
   * The engine's own functions, read once (they change only with the engine). A
   * name outside them is a user-defined function. Aggregate functions also come
   * with combinator suffixes (countIf, quantilesExactMerge, sumArrayIf).
   */
  async #readBuiltins(): Promise<(name: string) => boolean> {
    try {
      const [functions, combinators] = await Promise.all([
        this.#deps.control.rows("SELECT name, case_insensitive, is_aggregate FROM system.functions WHERE origin = 'System'"),
        this.#deps.control.rows('SELECT name FROM system.aggregate_function_combinators'),
      ]);
      // Resolved by the analyzer itself, not registered as functions.
      const exact = new Set(['exists', 'grouping', 'untuple', ...functions.map((f) => String(f.name))]);
      const folded = new Set(functions.filter((f) => Number(f.case_insensitive) === 1).map((f) => String(f.name).toLowerCase()));
      const aggregates = new Set(functions.filter((f) => Number(f.is_aggregate) === 1).map((f) => String(f.name)));
      const suffixes = combinators.map((c) => String(c.name));
      const aggregate = (name: string, depth: number): boolean =>
        aggregates.has(name) || (depth < 4 && suffixes.some((c) => name.endsWith(c) && aggregate(name.slice(0, -c.length), depth + 1)));
      return (name) => exact.has(name) || folded.has(name.toLowerCase()) || aggregate(name, 0);
    } catch (e) {
      this.#builtins = undefined;
      throw e;
    }
  }

  async #columns(keys: readonly string[], catalog: Catalog): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    if (keys.length === 0) return out;
    const pairs = keys.map((k) => {
      const t = catalog.tables.get(k) as TableInfo;
      return `(${literal(t.database)}, ${literal(t.name)})`;
    });
    const rows = await this.#deps.control.rows(`SELECT database, table, name FROM system.columns WHERE (database, table) IN (${pairs.join(', ')})`);
    for (const r of rows) {
      const key = `${r.database}.${r.table}`;
      out.set(key, [...(out.get(key) ?? []), String(r.name)]);
    }
    return out;
  }
}
