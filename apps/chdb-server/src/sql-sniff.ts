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
 * The `name = value` pairs of a SET statement or of SETTINGS clauses, outside
 * literals and comments, for checking a constrained user's settings against the
 * profile's bounds. Everything from a SETTINGS keyword on is read, so it may
 * over-match (a later `WHERE x = 1` in a subquery); a WHERE before any SETTINGS
 * is never mistaken for a setting.
 */
export function settingAssignments(sql: string): Array<[string, string]> {
  const masked = sql
    .replace(/'(?:\\.|''|[^'\\])*'/g, "''")
    .replace(/--[^\n]*|#[^\n]*|\/\*[\s\S]*?\*\//g, ' ');
  const at = leadingKeyword(masked) === 'SET' ? 0 : masked.search(/\bSETTINGS\b/i);
  if (at === -1) return [];
  const code = masked.slice(at);
  const out: Array<[string, string]> = [];
  const re = /\b([A-Za-z_][A-Za-z0-9_]*)\s*=\s*([^\s,;)]+)/g;
  for (let m = re.exec(code); m !== null; m = re.exec(code)) out.push([m[1] as string, m[2] as string]);
  return out;
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

/**
 * Splits a body that holds an INSERT statement followed by its data (no
 * `query` param) into the two, at the byte where a server starts reading data:
 * after the FORMAT name, any spaces or tabs, and at most one line break (CRLF
 * or LF). The data stays bytes, so binary formats pass through untouched.
 * Returns undefined when the statement carries no FORMAT clause (VALUES, or
 * INSERT … SELECT): then the whole body is SQL.
 */
export function splitInsertBody(body: Buffer): { sql: string; data: Buffer } | undefined {
  // latin1 maps bytes to chars one to one, so offsets found here are byte offsets.
  const head = body.subarray(0, 1 << 16).toString('latin1');
  if (leadingKeyword(head) !== 'INSERT') return undefined;
  let i = skipTrivia(head);
  const formatRe = /FORMAT\s+[A-Za-z][A-Za-z0-9_]*/y;
  while (i < head.length) {
    const c = head[i];
    if (c === "'" || c === '"' || c === '`') {
      i = skipQuoted(head, i, c);
      continue;
    }
    if (/[A-Za-z_]/.test(c ?? '') && (i === 0 || !/[A-Za-z0-9_]/.test(head[i - 1] ?? ''))) {
      formatRe.lastIndex = i;
      const m = formatRe.exec(head);
      if (m && m[0].slice(0, 6).toUpperCase() === 'FORMAT') {
        let pos = i + m[0].length;
        if (/[A-Za-z0-9_]/.test(head[pos] ?? '')) {
          i = pos;
          continue;
        }
        while (head[pos] === ' ' || head[pos] === '\t' || head[pos] === '\f') pos++;
        if (head[pos] === ';') return { sql: body.subarray(0, pos).toString('utf8'), data: Buffer.alloc(0) };
        if (head[pos] === '\r') pos++;
        if (head[pos] === '\n') pos++;
        return { sql: body.subarray(0, i + m[0].length).toString('utf8'), data: body.subarray(pos) };
      }
      if (/^(SELECT|WITH|VALUES)\b/i.test(head.slice(i, i + 7))) return undefined;
    }
    i++;
  }
  return undefined;
}

function skipQuoted(s: string, start: number, quote: string): number {
  let i = start + 1;
  while (i < s.length) {
    if (s[i] === '\\') i += 2;
    else if (s[i] === quote) return i + 1;
    else i++;
  }
  return s.length;
}
