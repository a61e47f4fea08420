/**
 * The SELECT privileges of a users-file user, read from its `grants` the way a
 * ClickHouse server reads them: each entry is one GRANT or REVOKE statement
 * without grantees, applied in order, so a REVOKE after a wider GRANT is a
 * partial revoke. Only SELECT is understood: chdb-server runs every session as
 * one engine user and enforces reads itself (src/access.ts); a privilege it
 * cannot enforce fails the load instead of being silently ignored.
 */

/** One `GRANT`/`REVOKE SELECT[(columns)] ON db.table` step; '*' is a wildcard, columns undefined means all. */
interface Rule {
  readonly allow: boolean;
  readonly database: string;
  readonly table: string;
  readonly columns: ReadonlySet<string> | undefined;
}

/**
 * What a server grants every user implicitly under
 * `access_control_improvements.select_from_system_db_requires_grant`: constant
 * tables, and the metadata tables that hide what the user may not see.
 */
const ALWAYS_READABLE_SYSTEM_TABLES = new Set([
  'one',
  'contributors',
  'licenses',
  'time_zones',
  'collations',
  'formats',
  'privileges',
  'data_type_families',
  'database_engines',
  'table_engines',
  'table_functions',
  'aggregate_function_combinators',
  'functions',
  'databases',
  'tables',
  'columns',
  'settings',
  'current_roles',
  'enabled_roles',
  'quota_usage',
]);

export class Grants {
  readonly #rules: readonly Rule[];

  constructor(rules: readonly Rule[]) {
    this.#rules = rules;
  }

  /** Whether SELECT on this one column is granted (the last matching rule decides, as partial revokes do). */
  canSelect(database: string, table: string, column: string): boolean {
    if (database === 'system' && ALWAYS_READABLE_SYSTEM_TABLES.has(table)) return true;
    let granted = false;
    for (const r of this.#rules) {
      if (r.database !== '*' && r.database !== database) continue;
      if (r.table !== '*' && r.table !== table) continue;
      if (r.columns && !r.columns.has(column)) continue;
      granted = r.allow;
    }
    return granted;
  }
}

type Token = { kind: 'word' | 'quoted' | 'punct'; text: string };

function tokenize(sql: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < sql.length) {
    const c = sql[i] as string;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '`' || c === '"') {
      let text = '';
      let j = i + 1;
      for (; j < sql.length && sql[j] !== c; j++) {
        if (sql[j] === '\\' && j + 1 < sql.length) j++;
        text += sql[j];
      }
      if (j >= sql.length) throw new Error(`unterminated ${c} in: ${sql}`);
      out.push({ kind: 'quoted', text });
      i = j + 1;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(sql.slice(i)) as RegExpExecArray;
      out.push({ kind: 'word', text: m[0] });
      i += m[0].length;
    } else if ('.,()*;'.includes(c)) {
      out.push({ kind: 'punct', text: c });
      i++;
    } else {
      throw new Error(`unexpected '${c}' in: ${sql}`);
    }
  }
  return out;
}

/** Parses one statement of a user's `grants` into rules. */
function parseStatement(sql: string): Rule[] {
  const t = tokenize(sql);
  let i = 0;
  const fail = (what: string): never => {
    throw new Error(`${what} in: ${sql}`);
  };
  const peek = (): Token | undefined => t[i];
  const isWord = (w: string): boolean => peek()?.kind === 'word' && peek()?.text.toUpperCase() === w;
  const expectWord = (w: string): void => {
    if (!isWord(w)) fail(`expected ${w}`);
    i++;
  };
  const isPunct = (p: string): boolean => peek()?.kind === 'punct' && peek()?.text === p;
  const name = (): string => {
    const tok = peek();
    if (!tok || tok.kind === 'punct') return fail('expected a name');
    i++;
    return tok.text;
  };
  const nameOrStar = (): string => {
    if (isPunct('*')) {
      i++;
      return '*';
    }
    return name();
  };

  const verb = peek()?.text.toUpperCase();
  if (verb !== 'GRANT' && verb !== 'REVOKE') fail('expected GRANT or REVOKE');
  i++;
  if (isWord('ON') && t[i + 1]?.text.toUpperCase() === 'CLUSTER') fail("a users file can't grant ON CLUSTER");
  const columnSets: Array<ReadonlySet<string> | undefined> = [];
  for (;;) {
    if (!isWord('SELECT')) {
      fail(`chdb-server enforces only SELECT grants, not ${peek()?.text ?? 'nothing'}`);
    }
    i++;
    if (isPunct('(')) {
      i++;
      const cols = new Set<string>();
      for (;;) {
        cols.add(name());
        if (isPunct(',')) i++;
        else break;
      }
      if (!isPunct(')')) fail("expected ')'");
      i++;
      columnSets.push(cols);
    } else {
      columnSets.push(undefined);
    }
    if (isPunct(',')) i++;
    else break;
  }
  expectWord('ON');
  const database = nameOrStar();
  let table: string;
  if (isPunct('.')) {
    i++;
    table = nameOrStar();
  } else if (database === '*') {
    table = '*';
  } else {
    return fail('name the database: ON db.table, db.* or *.*');
  }
  if (database === '*' && table !== '*') fail('ON *.table is not a valid target');
  if (isWord('TO') || isWord('FROM')) fail("a users file's grants name no grantee");
  if (isWord('WITH')) {
    i++;
    expectWord('GRANT');
    expectWord('OPTION');
  }
  if (isPunct(';')) i++;
  if (i !== t.length) fail(`unexpected ${peek()?.text}`);
  return columnSets.map((columns) => ({ allow: verb === 'GRANT', database, table, columns }));
}

/** GRANT and REVOKE statements, applied in order; an error names the statement. */
export function parseGrants(statements: readonly string[]): Grants {
  const rules: Rule[] = [];
  for (const s of statements) rules.push(...parseStatement(s.trim()));
  return new Grants(rules);
}

/**
 * `grants` as a server reads it: every value under it (the YAML `query:` list
 * becomes repeated <query> elements) is one GRANT or REVOKE statement.
 */
export function readGrants(raw: unknown, where: string): Grants | undefined {
  if (raw === undefined) return undefined;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new Error(`${where}: expected a mapping such as { query: [GRANT …] }`);
  }
  const statements: string[] = [];
  for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
    for (const v of Array.isArray(value) ? value : [value]) {
      if (typeof v !== 'string') throw new Error(`${where}.${key}: expected a GRANT or REVOKE statement`);
      statements.push(v);
    }
  }
  try {
    return parseGrants(statements);
  } catch (e) {
    throw new Error(`${where}: ${(e as Error).message}`);
  }
}
