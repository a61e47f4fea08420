/**
 * What a query of a user with grants may do, decided from the engine's own
 * analysis of it (src/access.ts asks; this file only judges what came back).
 * The decisions mirror a ClickHouse server's: SELECT on every column a query
 * uses anywhere (projection, WHERE, JOIN, ORDER BY …), SELECT on at least one
 * column for `count()`-like reads, the source privilege for table functions;
 * and they refuse whatever this server cannot see through.
 */
import { type ClickHouseError, Codes, chError } from './errors.js';
import type { Grants } from './grants.js';
import { type TreeNode, walk } from './query-tree.js';

export interface TableInfo {
  readonly database: string;
  readonly name: string;
  readonly engine: string;
  /** A view's query (View, MaterializedView); '' otherwise. */
  readonly asSelect: string;
}

/** The engine's catalog when the query is checked. */
export interface Catalog {
  /** By `database.name`. */
  readonly tables: ReadonlyMap<string, TableInfo>;
  /** Whether a function name is one of the engine's own (not a user-defined one). */
  builtin(name: string): boolean;
  readonly currentDatabase: string;
}

export interface Judge {
  readonly user: string;
  readonly grants: Grants;
  readonly catalog: Catalog;
}

const TEMPORARY = '_temporary_and_external_tables.';

function quoteName(name: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? name : `\`${name.replace(/\\/g, '\\\\').replace(/`/g, '\\`')}\``;
}

export function qualified(database: string, table: string): string {
  return `${quoteName(database)}.${quoteName(table)}`;
}

/** A server's own refusal, naming the grant that would have allowed the query. */
export function denied(user: string, grant: string): ClickHouseError {
  return chError(Codes.ACCESS_DENIED, `${user}: Not enough privileges. To execute this query, it's necessary to have the grant ${grant}`);
}

/** A refusal for what this server cannot check for a user with grants (no server says these). */
export function refused(user: string, why: string): ClickHouseError {
  return chError(Codes.ACCESS_DENIED, `${user}: ${why}, which chdb-server does not allow to a user with grants`);
}

/**
 * True when a quoted string or name of the engine's canonical text (formatQuery:
 * no comments, escapes spelled out) holds a line break. Such a name would be
 * printed raw in the engine's EXPLAIN output and could forge lines of it.
 */
export function quotedLineBreak(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const quote = text[i];
    if (quote !== "'" && quote !== '`' && quote !== '"') continue;
    let j = i + 1;
    for (; j < text.length && text[j] !== quote; j++) {
      const c = text[j];
      if (c === '\n' || c === '\r') return true;
      if (c === '\\') {
        const e = text[j + 1] ?? '';
        if (e === 'n' || e === 'r' || (e === 'x' && /^(0a|0d)$/i.test(text.slice(j + 2, j + 4)))) return true;
        j++;
      }
    }
    i = j;
  }
  return false;
}

// Table functions that read nothing but their own arguments. Everything else
// (file, url, s3, remote, merge, mysql, view, dictionary, mergeTreeIndex, loop …)
// reads data this server could not check, or checks it differently.
const TABLE_FUNCTIONS = new Set(['numbers', 'numbers_mt', 'zeros', 'zeros_mt', 'generate_series', 'generateSeries', 'values']);

// The source a server asks READ on for a table function (ClickHouse 26's wording).
const SOURCES: Record<string, string> = {
  file: 'FILE',
  url: 'URL',
  urlCluster: 'URL',
  remote: 'REMOTE',
  remoteSecure: 'REMOTE',
  cluster: 'REMOTE',
  clusterAllReplicas: 'REMOTE',
  s3: 'S3',
  s3Cluster: 'S3',
  gcs: 'S3',
  mysql: 'MYSQL',
  postgresql: 'POSTGRES',
  sqlite: 'SQLITE',
  mongodb: 'MONGO',
  redis: 'REDIS',
  hdfs: 'HDFS',
  jdbc: 'JDBC',
  odbc: 'ODBC',
  azureBlobStorage: 'AZURE',
};

function checkTableFunction(judge: Judge, name: string, node: TreeNode): void {
  if (!TABLE_FUNCTIONS.has(name)) {
    const source = SOURCES[name];
    throw source
      ? denied(judge.user, `READ ON ${source}`)
      : refused(judge.user, `the query reads through the table function ${name}`);
  }
  // values() names its columns from its first argument: only a literal one, so no
  // name can be computed at run time (see quotedLineBreak).
  if (name === 'values' && args(node)[0]?.kind !== 'CONSTANT') {
    throw refused(judge.user, 'the query computes the structure of values()');
  }
}

function args(node: TreeNode): TreeNode[] {
  const list = node.children.find((c) => c.kind === 'ARGUMENTS')?.children.find((c) => c.kind === 'LIST');
  return list ? list.children.filter((c) => c.id !== undefined) : [];
}

const STRING_CONSTANT = /^constant_value: '((?:[^'\\]|\\.)*)', constant_value_type: String$/;

/** The value of a CONSTANT node of type String, or undefined for any other node. */
export function stringConstant(node: TreeNode | undefined): string | undefined {
  if (node?.kind !== 'CONSTANT') return undefined;
  const m = STRING_CONSTANT.exec(node.text);
  if (!m) return undefined;
  const escapes: Record<string, string> = { n: '\n', t: '\t', r: '\r', '0': '\0', b: '\b', f: '\f' };
  return (m[1] as string).replace(/\\(.)/g, (_, c: string) => escapes[c] ?? c);
}

/**
 * Functions that read stored data by name. The engine runs them while it
 * analyses a query whenever their arguments are constant, so they are judged
 * before it is asked.
 */
function checkFunction(judge: Judge, name: string, node: TreeNode | undefined, resolved: boolean): void {
  const lower = name.toLowerCase();
  // A user-defined function is expanded, and so run, while the query is analysed.
  if (!resolved && !judge.catalog.builtin(name)) throw refused(judge.user, `the query calls ${name}, which is not a built-in function`);
  // A server reads only inside its user_files_path here; chDB would read any file.
  if (lower === 'file') throw denied(judge.user, 'READ ON FILE');
  if (lower.startsWith('dict')) {
    const dictionary = node ? stringConstant(args(node)[0]) : undefined;
    throw denied(judge.user, `dictGet ON ${dictionary ?? '*.*'}`);
  }
  if (lower === 'catboostevaluate' || lower === 'modelevaluate') throw refused(judge.user, `the query calls ${name}`);
  if (lower === 'joinget' || lower === 'joingetornull') {
    const a = node ? args(node) : [];
    const table = stringConstant(a[0]);
    const column = stringConstant(a[1]);
    if (table === undefined || column === undefined) {
      throw refused(judge.user, `the query calls ${name} without a literal table and column`);
    }
    const dot = table.indexOf('.');
    const database = dot === -1 ? judge.catalog.currentDatabase : table.slice(0, dot);
    const t = dot === -1 ? table : table.slice(dot + 1);
    if (!judge.grants.canSelect(database, t, column)) throw denied(judge.user, `SELECT(${quoteName(column)}) ON ${qualified(database, t)}`);
  }
}

// Settings a query may not set for itself: the two filters are SQL the engine
// runs with the query but outside its tree; the others would let the analysis
// read a stream (consuming the pipeline's Kafka messages) or run the query under
// the old analyzer, which resolves names its own way.
const GUARDED_SETTINGS = [
  'additional_table_filters',
  'additional_result_filter',
  'stream_like_engine_allow_direct_select',
  'enable_analyzer',
  'allow_experimental_analyzer',
  'compatibility',
];

function names(text: string, key: string): string[] {
  const re = new RegExp(`(?:^|, )${key}: ([^,]*)`, 'g');
  return [...text.matchAll(re)].map((m) => m[1] as string);
}

/**
 * Judges a query tree before the engine analyses it (`EXPLAIN QUERY TREE
 * passes=0`): table functions, functions that read by name, settings the query
 * sets for itself. A name may be listed twice on a line (an alias can hold any
 * text); every one must pass.
 */
export function checkUnanalysed(judge: Judge, roots: readonly TreeNode[]): void {
  for (const [node] of walk(roots)) {
    if (node.kind === 'TABLE_FUNCTION') {
      for (const name of names(node.text, 'table_function_name')) checkTableFunction(judge, name, node);
    } else if (node.kind === 'FUNCTION') {
      for (const name of names(node.text, 'function_name')) checkFunction(judge, name, node, false);
    } else if (node.kind === 'SETTINGS') {
      const changed = GUARDED_SETTINGS.find((s) => new RegExp(`(?:^|\\s)${s}=`).test(node.text));
      if (changed) throw chError(Codes.SETTING_CONSTRAINT_VIOLATION, `Setting ${changed} should not be changed`);
    }
  }
}

/** One table a query reads, as the analysed tree shows it. */
export interface TableRead {
  readonly key: string;
  readonly temporary: boolean;
  /** Read as a whole (`x IN table`), not through columns: every column counts. */
  whole: boolean;
  /** The COLUMN lines whose source is this table. */
  readonly columns: string[];
}

const JOIN_TREE_SECTIONS = new Set(['JOIN TREE', 'LEFT TABLE EXPRESSION', 'RIGHT TABLE EXPRESSION', 'TABLE EXPRESSION']);

/** The catalog table a TABLE line names; every `table_name:` on the line must name the same one. */
function tableOf(judge: Judge, node: TreeNode): { key: string; temporary: boolean } {
  const found = new Set<string>();
  let temporary = false;
  for (const m of node.text.matchAll(/(?:^|, )table_name: /g)) {
    const rest = node.text.slice((m.index as number) + m[0].length);
    if (rest.startsWith(TEMPORARY)) {
      temporary = true;
      found.add(TEMPORARY);
      continue;
    }
    let best = '';
    for (const key of judge.catalog.tables.keys()) {
      if (key.length > best.length && (rest === key || rest.startsWith(`${key}, `))) best = key;
    }
    found.add(best);
  }
  const [key] = [...found];
  if (found.size !== 1 || key === undefined || key === '') {
    throw refused(judge.user, `the query reads a table chdb-server could not identify (${node.text.slice(0, 200)})`);
  }
  return { key, temporary };
}

/**
 * The tables an analysed query reads and the COLUMN lines that read them. Also
 * judges its table functions and functions again: the analysis may have
 * brought in more (a setting such as implicit_table_at_top_level).
 */
export function tableReads(judge: Judge, roots: readonly TreeNode[]): TableRead[] {
  const byId = new Map<number, TableRead>();
  const byKey = new Map<string, TableRead>();
  for (const [node, ancestors] of walk(roots)) {
    if (node.kind === 'TABLE' && node.id !== undefined) {
      const { key, temporary } = tableOf(judge, node);
      const read = byKey.get(key) ?? { key, temporary, whole: false, columns: [] };
      byKey.set(key, read);
      byId.set(node.id, read);
      if (!JOIN_TREE_SECTIONS.has(ancestors.at(-1)?.kind ?? '')) read.whole = true;
    } else if (node.kind === 'TABLE_FUNCTION') {
      for (const name of names(node.text, 'table_function_name')) checkTableFunction(judge, name, node);
    } else if (node.kind === 'FUNCTION') {
      for (const name of names(node.text, 'function_name')) checkFunction(judge, name, node, true);
    }
  }
  for (const [node] of walk(roots)) {
    if (node.kind !== 'COLUMN') continue;
    const source = /, source_id: (\d+)$/.exec(node.text);
    const read = source ? byId.get(Number(source[1])) : undefined;
    read?.columns.push(node.text);
  }
  return [...byKey.values()];
}

// Engines whose rows are their own: anything that reads elsewhere (Merge,
// Distributed, Buffer, Dictionary, File, URL, S3, Kafka …) is refused.
function ownsItsData(engine: string): boolean {
  return /MergeTree$|^System|^(Memory|Log|TinyLog|StripeLog|Join|Set|Null|View|MaterializedView)$/.test(engine);
}

/** The columns of `columns` that one COLUMN line reads; a subcolumn (`phone.null`) reads its column. */
function columnsOf(line: string, columns: readonly string[]): string[] {
  const hit = columns.filter((c) => line.includes(`column_name: ${c}, `) || line.includes(`column_name: ${c}.`));
  if (hit.length > 0) return hit;
  // Not a stored column: a virtual one (_part, _table …), judged by its name.
  const name = /column_name: (.*?), result_type: /.exec(line)?.[1];
  return name !== undefined && name.startsWith('_') ? [name] : [];
}

/**
 * Judges the reads against the grants. Returns the views among them, whose
 * own queries must be judged too (a server reads them as their invoker).
 */
export function judgeReads(
  judge: Judge,
  reads: readonly TableRead[],
  columnsByTable: ReadonlyMap<string, readonly string[]>,
): TableInfo[] {
  const views: TableInfo[] = [];
  for (const read of reads) {
    if (read.temporary) continue;
    const info = judge.catalog.tables.get(read.key) as TableInfo;
    const where = qualified(info.database, info.name);
    const all = columnsByTable.get(read.key) ?? [];
    const required = new Set<string>(read.whole ? all : []);
    for (const line of read.columns) {
      const cols = columnsOf(line, all);
      if (cols.length === 0) throw refused(judge.user, `the query reads a column of ${where} chdb-server could not identify`);
      for (const c of cols) required.add(c);
    }
    const missing = [...required].filter((c) => !judge.grants.canSelect(info.database, info.name, c));
    if (missing.length > 0) throw denied(judge.user, `SELECT(${missing.map(quoteName).join(', ')}) ON ${where}`);
    if (required.size === 0 && !all.some((c) => judge.grants.canSelect(info.database, info.name, c))) {
      throw denied(judge.user, `SELECT for at least one column on ${where}`);
    }
    if (!ownsItsData(info.engine)) throw refused(judge.user, `the query reads ${where}, a table of engine ${info.engine}`);
    if (info.engine === 'View' || info.engine === 'MaterializedView') views.push(info);
  }
  return views;
}

// Statements a user with grants may send besides SELECT: metadata and session
// state. Everything else (EXPLAIN, INSERT, CREATE, KILL other than by query_id,
// SYSTEM …) is refused; the engine's readonly would stop most of them anyway.
const STATEMENTS = /^(ShowTables|ShowColumns|ShowCreate\w*|Exists\w*|DescribeQuery|Set|UseQuery)$/;

/**
 * Judges a statement that is not a SELECT from its parse (`EXPLAIN AST`, one
 * space of indent per level): its kind, and for DESCRIBE its functions.
 */
export function checkStatement(judge: Judge, ast: readonly string[]): void {
  const kind = /^\S+/.exec(ast[0] ?? '')?.[0] ?? '';
  if (!STATEMENTS.test(kind)) throw refused(judge.user, `the statement is a ${kind || 'statement'}`);
  const parents: string[] = [];
  for (const line of ast) {
    const depth = line.length - line.trimStart().length;
    const [head = '', name = ''] = line.trim().split(' ');
    parents.length = depth;
    if (head === 'Function') {
      if (parents[depth - 1] === 'TableExpression') checkTableFunction(judge, name, { kind: 'TABLE_FUNCTION', id: undefined, text: '', children: [] });
      else checkFunction(judge, name, undefined, false);
    }
    parents[depth] = head;
  }
}
