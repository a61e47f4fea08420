/**
 * The few facts this server needs about a statement's text, read lexically and
 * never by parsing it: the engine stays the only SQL parser. Each answer only
 * picks a code path or a header; getting one wrong never changes what the
 * engine executes.
 */

/** Skips whitespace and `--`, `#`, block comments; returns the offset of the first token. */
function skipTrivia(sql: string): number {
  let i = 0;
  while (i < sql.length) {
    const c = sql[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v') {
      i++;
    } else if (sql.startsWith('--', i) || c === '#') {
      const end = sql.indexOf('\n', i);
      if (end === -1) return sql.length;
      i = end + 1;
    } else if (sql.startsWith('/*', i)) {
      const end = sql.indexOf('*/', i + 2);
      if (end === -1) return sql.length;
      i = end + 2;
    } else {
      break;
    }
  }
  return i;
}

/** The statement's first keyword, upper-cased (`INSERT`, `SELECT`, …), or '' when there is none. */
export function leadingKeyword(sql: string): string {
  const start = skipTrivia(sql);
  const m = /^[A-Za-z_]+/.exec(sql.slice(start, start + 32));
  return m ? m[0].toUpperCase() : '';
}

/**
 * Whether the text could change session state in chDB (`SET x = 1`, `USE db`).
 * Over HTTP a real server forgets such changes when the request ends; chDB keeps
 * them on its one session, so the executor undoes them. A false positive (the
 * word inside a string) only costs an unnecessary reset.
 */
export function mayChangeSettings(sql: string): boolean {
  return /\bSET\b/i.test(sql);
}

export function mayChangeDatabase(sql: string): boolean {
  return /\bUSE\b/i.test(sql);
}

/**
 * The output format named by a trailing FORMAT clause, if any. Only used for
 * the X-ClickHouse-Format and Content-Type headers; the engine itself already
 * lets the clause win over the request's default format.
 */
export function formatClause(sql: string): string | undefined {
  const re = /\bFORMAT\s+([A-Za-z][A-Za-z0-9_]*)/gi;
  let last: string | undefined;
  for (let m = re.exec(sql); m !== null; m = re.exec(sql)) last = m[1];
  return last;
}
