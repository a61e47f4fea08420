/**
 * Query parameters (`{name:Type}` placeholders bound from `param_name=` URL
 * arguments), substituted in the SQL text before the engine sees it.
 *
 * chDB can bind parameters itself, but its bound-parameter state is not
 * isolated per connection: concurrent parameterized queries on different
 * connections clobber each other (and can abort the engine), so chdb runs them
 * one at a time process-wide. Substituting here keeps them as parallel as any
 * other query.
 *
 * What ClickHouse does (ReplaceQueryParameterVisitor): parse the parameter's
 * text with the type's *escaped* (TSV) text deserialization, make a literal of
 * the resulting value and wrap it as `_CAST(literal, 'Type')` — except String,
 * which stays a bare literal. The expressions built here yield the very same
 * value and type (and, for most scalar types, the very same expression text, so
 * an unaliased placeholder keeps ClickHouse's column name):
 *
 * - String (and its aliases): the escaped text is un-escaped exactly as
 *   ClickHouse's readEscapedString does (`\N` → nothing, `\xHH`, unknown
 *   escapes keep their backslash, a raw tab or newline ends the value) and
 *   written back as a bare SQL literal.
 * - Integers and Interval types: parsed here the way readIntTextUnsafe does
 *   (no `+`, a leading `0` is the whole number, overflow wraps) →
 *   `_CAST(n, 'T')`; 128/256-bit ones as `_CAST('n', 'T')`, as ClickHouse
 *   prints them.
 * - Float32/Float64: plain decimal text is parsed and printed the way
 *   ClickHouse prints a Float64 literal (`_CAST(5., 'Float64')`); anything else
 *   is left to the engine as `_CAST('text', 'T')` (same parser, verified).
 * - Bool, FixedString, Enum, UUID, IPv4, Decimal, Date, Date32: canonical text
 *   or number, as ClickHouse's literal would print.
 * - DateTime / DateTime64: the engine's CAST from String parses differently
 *   from the escaped reader outside the canonical forms (timestamps of 11+
 *   digits, odd separators, zero years, day overflow), so the text is taken
 *   apart here positionally as the escaped reader does and re-assembled in
 *   canonical form; unix timestamps become the exact stored number.
 * - Map: `CAST(String AS Map)` is not supported, so the text is parsed as the
 *   single element of an Array(Map) — the same Map text reader.
 * - Nullable / LowCardinality wrap their inner type's expression.
 * - Everything else (Array, Tuple, JSON, Time, IPv6, ...): `_CAST('text', 'T')`,
 *   which runs the same text reader the escaped form uses for these types.
 * - `{x:Identifier}` becomes a back-quoted identifier of the raw value (one
 *   name part, dots included, as ClickHouse does).
 *
 * Placeholders inside string literals, quoted identifiers, comments and
 * heredocs are not touched; neither are those in the body of a `CREATE VIEW`
 * (ClickHouse keeps them: that makes a parameterized view) nor those in the data
 * after `INSERT ... FORMAT x` (except the Values format, which ClickHouse
 * substitutes too). A placeholder used as a setting value (`SETTINGS x =
 * {v:UInt64}`, `SET x = ...`) becomes a bare literal, as settings take no
 * expressions. Parameters the query does not use are ignored.
 *
 * Known differences from ClickHouse (test/query-params.test.ts checks the rest
 * against chDB's own binding):
 * - A DateTime/DateTime64 text with a non-digit where a digit belongs
 *   (`2024-01-02 03:0x:05`), or with hour/minute/second out of range, is
 *   refused (457); ClickHouse computes some date from the character codes.
 * - Variant and Dynamic: ClickHouse reads the un-escaped text once more with
 *   the escaped rules (and Dynamic prints the inferred value back), so escape
 *   sequences and non-canonical spellings can come out differently.
 * - Error codes: where the engine reads the value (`_CAST('text', 'T')`) a bad
 *   value fails with the engine's code (e.g. 6 CANNOT_PARSE_TEXT) where
 *   ClickHouse may say 457; both fail.
 * - Column names of unaliased placeholders differ for the types the engine
 *   reads from text (DateTime from a date string, DateTime64, IPv6, Array,
 *   Tuple, Map, ...): ClickHouse prints its parsed literal, `_CAST(1704164645,
 *   'DateTime')`, this gives `_CAST('2024-01-02 03:04:05', 'DateTime')`.
 * - The query text the engine sees (query_log, processes, normalized hashes)
 *   holds the values, not the placeholders.
 */
import { ClickHouseError, Codes, chError } from './errors.js';

// ─── Lexer (a port of ClickHouse's src/Parsers/Lexer.cpp, ASCII semantics) ───

type Kind = 'ws' | 'comment' | 'word' | 'number' | 'string' | 'qident' | 'heredoc' | 'punct' | 'error';

interface Tok {
  k: Kind;
  s: number;
  e: number;
}

const isDigit = (c: number): boolean => c >= 48 && c <= 57;
const isHex = (c: number): boolean => isDigit(c) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
const isAlpha = (c: number): boolean => (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
const isWordChar = (c: number): boolean => isAlpha(c) || isDigit(c) || c === 95;
const isAsciiWs = (c: number): boolean => c === 32 || (c >= 9 && c <= 13);
const UNICODE_WS = /[\u0085\u00A0\u1680\u2000-\u200B\u2028\u2029\u202F\u205F\u3000\uFEFF]/y;

function lex(sql: string): Tok[] {
  const end = sql.length;
  const toks: Tok[] = [];
  let pos = 0;
  let prevSig: Tok | undefined;
  const c = (i: number): number => (i < end ? sql.charCodeAt(i) : -1);
  const punctText = (t: Tok | undefined): string | undefined => (t?.k === 'punct' ? sql.slice(t.s, t.e) : undefined);

  const numberSeparator = (startOfBlock: boolean, hex: boolean, i: number): boolean => {
    if (c(i) !== 95 /* _ */ || startOfBlock) return false;
    if (i + 1 >= end) return false;
    return hex ? isHex(c(i + 1)) : isDigit(c(i + 1));
  };

  /** An exponent (e/E, or p/P after hex digits), its sign and digits, when one starts at `pos`. */
  const skipExponent = (hex: boolean): void => {
    const e = c(pos);
    if (!(pos + 1 < end && (hex ? e === 112 || e === 80 : e === 101 || e === 69))) return;
    pos++;
    if (pos + 1 < end && (c(pos) === 45 || c(pos) === 43)) pos++;
    let startOfBlock = true;
    while (pos < end && (isDigit(c(pos)) || numberSeparator(startOfBlock, false, pos))) {
      pos++;
      startOfBlock = false;
    }
  };

  const quoted = (quote: number, kind: Kind): Kind => {
    pos++;
    for (;;) {
      while (pos < end && c(pos) !== quote && c(pos) !== 92) pos++;
      if (pos >= end) return 'error';
      if (c(pos) === quote) {
        pos++;
        if (pos < end && c(pos) === quote) {
          pos++;
          continue;
        }
        return kind;
      }
      pos++; // backslash
      if (pos >= end) return 'error';
      pos++;
    }
  };

  const untilEol = (): Kind => {
    const nl = sql.indexOf('\n', pos);
    pos = nl < 0 ? end : nl;
    return 'comment';
  };

  const next = (): Kind => {
    const ch = c(pos);
    if (isAsciiWs(ch)) {
      while (pos < end && isAsciiWs(c(pos))) pos++;
      return 'ws';
    }
    if (isDigit(ch)) {
      const begin = pos;
      if (prevSig && punctText(prevSig) === '.') {
        pos++;
        while (pos < end && (isDigit(c(pos)) || numberSeparator(false, false, pos))) pos++;
      } else {
        let startOfBlock = false;
        let hex = false;
        const p1 = c(pos + 1);
        if (pos + 2 < end && ch === 48 && (p1 === 120 || p1 === 88 || p1 === 98 || p1 === 66)) {
          let valid = false;
          if (p1 === 120 || p1 === 88) {
            if (isHex(c(pos + 2))) valid = hex = true;
          } else if (c(pos + 2) === 48 || c(pos + 2) === 49) valid = true;
          if (valid) {
            pos += 2;
            startOfBlock = true;
          } else pos++;
        } else pos++;
        const digit = hex ? isHex : isDigit;
        while (pos < end && (digit(c(pos)) || numberSeparator(startOfBlock, hex, pos))) {
          pos++;
          startOfBlock = false;
        }
        if (pos < end && c(pos) === 46 /* . */) {
          startOfBlock = true;
          pos++;
          while (pos < end && (digit(c(pos)) || numberSeparator(startOfBlock, hex, pos))) {
            pos++;
            startOfBlock = false;
          }
        }
        skipExponent(hex);
      }
      if (pos < end && isWordChar(c(pos))) {
        pos++;
        while (pos < end && isWordChar(c(pos))) pos++;
        for (let i = begin; i < pos; i++) if (!isWordChar(c(i)) && c(i) !== 36) return 'error';
        return 'word';
      }
      return 'number';
    }
    switch (ch) {
      case 39: // '
        return quoted(39, 'string');
      case 34: // "
        return quoted(34, 'qident');
      case 96: // `
        return quoted(96, 'qident');
      case 40: case 41: case 91: case 93: case 123: case 125: case 44: case 59: // ( ) [ ] { } , ;
      case 43: case 42: case 37: case 63: // + * % ?
        pos++;
        return 'punct';
      case 46: {
        // . : qualifier, tuple access or the start of a number
        const p = prevSig;
        const pt = punctText(p);
        if (
          pos > 0 &&
          (!(pos + 1 < end && isDigit(c(pos + 1))) ||
            pt === ')' || pt === ']' || p?.k === 'word' || p?.k === 'qident' || p?.k === 'number')
        ) {
          pos++;
          return 'punct';
        }
        let startOfBlock = true;
        pos++;
        while (pos < end && (isDigit(c(pos)) || numberSeparator(startOfBlock, false, pos))) {
          pos++;
          startOfBlock = false;
        }
        skipExponent(false);
        return 'number';
      }
      case 45: // - -> --
        pos++;
        if (c(pos) === 62) {
          pos++;
          return 'punct';
        }
        if (c(pos) === 45) {
          pos++;
          return untilEol();
        }
        return 'punct';
      case 47: // / // /*
        pos++;
        if (c(pos) === 47) {
          pos++;
          return untilEol();
        }
        if (c(pos) === 42) {
          pos++;
          let depth = 1;
          while (pos + 2 <= end) {
            if (c(pos) === 47 && c(pos + 1) === 42) {
              pos += 2;
              depth++;
            } else if (c(pos) === 42 && c(pos + 1) === 47) {
              pos += 2;
              if (--depth === 0) return 'comment';
            } else pos++;
          }
          pos = end;
          return 'error';
        }
        return 'punct';
      case 35: // # comment only when followed by a space or !
        pos++;
        if (c(pos) === 32 || c(pos) === 33) return untilEol();
        return 'error';
      case 61: // = ==
        pos++;
        if (c(pos) === 61) pos++;
        return 'punct';
      case 33: // !=
        pos++;
        if (c(pos) === 61) {
          pos++;
          return 'punct';
        }
        return 'error';
      case 60: // < <= <>
        pos++;
        if (c(pos) === 61 || c(pos) === 62) pos++;
        return 'punct';
      case 62: // > >=
        pos++;
        if (c(pos) === 61) pos++;
        return 'punct';
      case 58: // : ::
        pos++;
        if (c(pos) === 58) pos++;
        return 'punct';
      case 124: // | ||
        pos++;
        if (c(pos) === 124) pos++;
        return 'punct';
      case 64: // @ @@
        pos++;
        if (c(pos) === 64) pos++;
        return 'punct';
      case 92: // \G
        pos++;
        if (c(pos) === 71) {
          pos++;
          return 'punct';
        }
        return 'error';
      default:
        break;
    }
    if (ch === 36 /* $ */) {
      const tagEnd = sql.indexOf('$', pos + 1);
      if (tagEnd >= 0) {
        const tag = sql.slice(pos, tagEnd + 1);
        const close = sql.indexOf(tag, pos + tag.length);
        if (close >= 0) {
          pos = close + tag.length;
          return 'heredoc';
        }
      }
      if (pos + 1 === end || !isWordChar(c(pos + 1))) {
        pos++;
        return 'punct';
      }
    }
    if (pos + 2 < end && c(pos + 1) === 39 && (ch === 120 || ch === 88 || ch === 98 || ch === 66)) {
      const hex = ch === 120 || ch === 88;
      pos += 2;
      while (pos < end && (hex ? isHex(c(pos)) : c(pos) === 48 || c(pos) === 49)) pos++;
      if (pos >= end || c(pos) !== 39) {
        pos = end;
        return 'error';
      }
      pos++;
      return 'string';
    }
    if (isWordChar(ch) || ch === 36) {
      pos++;
      while (pos < end && (isWordChar(c(pos)) || c(pos) === 36)) pos++;
      return 'word';
    }
    UNICODE_WS.lastIndex = pos;
    if (UNICODE_WS.test(sql)) {
      pos = UNICODE_WS.lastIndex;
      while (pos < end) {
        UNICODE_WS.lastIndex = pos;
        if (!UNICODE_WS.test(sql)) break;
        pos = UNICODE_WS.lastIndex;
      }
      return 'ws';
    }
    pos++;
    return 'error';
  };

  while (pos < end) {
    const s = pos;
    const k = next();
    const t: Tok = { k, s, e: pos };
    toks.push(t);
    if (k !== 'ws' && k !== 'comment') prevSig = t;
  }
  return toks;
}

const significant = (toks: Tok[]): Tok[] => toks.filter((t) => t.k !== 'ws' && t.k !== 'comment');

// ─── Placeholders and where they stand ───

interface Placeholder {
  /** Source span of `{ ... }`. */
  start: number;
  end: number;
  name: string;
  /** The type as written, from its first token up to the closing brace (ClickHouse keeps trailing blanks too). */
  type: string;
  identifier: boolean;
  /** Takes no expression: a setting's value, or the element index after `.` (`t.{i:UInt8}`). */
  bare: boolean;
}

function findPlaceholders(sql: string, sig: Tok[]): Placeholder[] {
  const text = (t: Tok | undefined): string => (t ? sql.slice(t.s, t.e) : '');
  const isP = (t: Tok | undefined, p: string): boolean => t?.k === 'punct' && text(t) === p;
  const found: Placeholder[] = [];
  for (let i = 0; i < sig.length; i++) {
    if (!isP(sig[i], '{')) continue;
    const nameTok = sig[i + 1];
    if (nameTok?.k !== 'word' || !isP(sig[i + 2], ':')) continue;
    const typeStart = sig[i + 3];
    if (typeStart?.k !== 'word') continue;
    let k = i + 4;
    while (sig[k]?.k === 'word') k++;
    if (isP(sig[k], '(')) {
      let depth = 0;
      for (; k < sig.length; k++) {
        if (isP(sig[k], '(')) depth++;
        else if (isP(sig[k], ')') && --depth === 0) break;
      }
      k++;
    }
    const close = sig[k];
    if (!close || !isP(close, '}')) continue;
    const typeToks = sig.slice(i + 3, k);
    found.push({
      start: sig[i]!.s,
      end: close.e,
      name: text(nameTok),
      type: sql.slice(typeStart.s, close.s),
      identifier: typeToks.length === 1 && text(typeStart) === 'Identifier',
      bare: isP(sig[i - 1], '.') || isSettingValue(sql, sig, i),
    });
    i = k;
  }
  return found;
}

/** True when the placeholder at sig[i] is the value in `SETTINGS a = 1, b = {x:T}` (or a SET statement, MODIFY SETTING). */
function isSettingValue(sql: string, sig: Tok[], i: number): boolean {
  const text = (t: Tok | undefined): string => (t ? sql.slice(t.s, t.e) : '');
  const isP = (t: Tok | undefined, p: string): boolean => t?.k === 'punct' && text(t) === p;
  const closers: Record<string, string> = { ')': '(', ']': '[', '}': '{' };
  let k = i - 1;
  for (;;) {
    if (!isP(sig[k], '=')) return false;
    k--;
    if (sig[k]?.k !== 'word' && sig[k]?.k !== 'qident') return false;
    k--;
    const t = sig[k];
    if (!t) return false;
    // SET counts as the SET statement only: `UPDATE t SET x = ...` assigns expressions.
    if (t.k === 'word' && (/^(SETTINGS|SETTING)$/i.test(text(t)) || (k === 0 && /^SET$/i.test(text(t))))) return true;
    if (!isP(t, ',')) return false;
    k--;
    // Step back over one value: a literal (maybe signed), or a bracketed group (maybe a function call).
    const last = sig[k];
    if (!last) return false;
    const opener = last.k === 'punct' ? closers[text(last)] : undefined;
    if (opener) {
      let depth = 0;
      for (; k >= 0; k--) {
        const tt = text(sig[k]);
        if (sig[k]!.k !== 'punct') continue;
        if (closers[tt]) depth++;
        else if (tt === '(' || tt === '[' || tt === '{') {
          if (--depth === 0) break;
        }
      }
      if (k < 0) return false;
      k--;
      if (sig[k]?.k === 'word' && isP(sig[k - 1], '=')) k--;
    } else {
      k--;
      if (isP(sig[k], '-') || isP(sig[k], '+')) k--;
    }
  }
}

interface Shape {
  /** Placeholders at or after this offset are data (INSERT ... FORMAT x) or a view's body: left alone. */
  stopAt: number;
}

function statementShape(sql: string, sig: Tok[]): Shape {
  const word = (t: Tok | undefined): string => (t?.k === 'word' ? sql.slice(t.s, t.e).toUpperCase() : '');
  const text = (t: Tok | undefined): string => (t ? sql.slice(t.s, t.e) : '');
  const first = word(sig[0]);
  let depth = 0;
  const topLevel: number[] = [];
  for (let i = 0; i < sig.length; i++) {
    const t = sig[i]!;
    const p = t.k === 'punct' ? text(t) : '';
    if (p === '(' || p === '[' || p === '{') depth++;
    else if (p === ')' || p === ']' || p === '}') depth--;
    else if (depth === 0) topLevel.push(i);
  }
  if (first === 'INSERT') {
    for (const i of topLevel) {
      if (word(sig[i]) === 'FORMAT' && sig[i + 1]?.k === 'word') {
        if (word(sig[i + 1]) === 'VALUES') return { stopAt: Infinity };
        return { stopAt: sig[i + 1]!.e };
      }
    }
  }
  if (first === 'CREATE' || first === 'ATTACH') {
    let j = 1;
    if (word(sig[j]) === 'OR' && word(sig[j + 1]) === 'REPLACE') j += 2;
    if (word(sig[j]) === 'VIEW') {
      for (const i of topLevel) {
        if (i <= j || word(sig[i]) !== 'AS') continue;
        const after = sig[i + 1];
        if (word(after) === 'SELECT' || word(after) === 'WITH' || text(after) === '(') return { stopAt: after!.s };
      }
    }
  }
  return { stopAt: Infinity };
}

// ─── Data types ───

interface TypeNode {
  /** Exactly as written (trimmed). */
  text: string;
  /** Canonical family, aliases resolved; undefined when unknown here. */
  family: string | undefined;
  /** The family name as written, e.g. `INT` for the alias. */
  written: string;
  /** Argument texts, trimmed, split at top-level commas; undefined without parentheses. */
  args: string[] | undefined;
}

/** ClickHouse's system.data_type_families: case-sensitive names. */
const FAMILIES = new Set([
  'AggregateFunction', 'Array', 'BFloat16', 'Dynamic', 'Enum16', 'Enum8', 'FixedString', 'Float32', 'Float64',
  'Geometry', 'IPv4', 'IPv6', 'Int128', 'Int16', 'Int256', 'Int32', 'Int64', 'Int8', 'IntervalDay', 'IntervalHour',
  'IntervalMicrosecond', 'IntervalMillisecond', 'IntervalMinute', 'IntervalMonth', 'IntervalNanosecond',
  'IntervalQuarter', 'IntervalSecond', 'IntervalWeek', 'IntervalYear', 'LineString', 'LowCardinality', 'Map',
  'MultiLineString', 'MultiPolygon', 'Nested', 'Nothing', 'Nullable', 'Point', 'Polygon', 'QBit', 'Ring',
  'SimpleAggregateFunction', 'String', 'Tuple', 'UInt128', 'UInt16', 'UInt256', 'UInt32', 'UInt64', 'UInt8', 'UUID',
  'Variant',
]);

/** Case-insensitive names (upper-cased) → canonical family. */
const FAMILIES_CI: Record<string, string> = {
  BOOL: 'Bool', DATE: 'Date', DATE32: 'Date32', DATETIME: 'DateTime', DATETIME32: 'DateTime',
  DATETIME64: 'DateTime64', DECIMAL: 'Decimal', DECIMAL32: 'Decimal32', DECIMAL64: 'Decimal64',
  DECIMAL128: 'Decimal128', DECIMAL256: 'Decimal256', ENUM: 'Enum', JSON: 'JSON', TIME: 'Time', TIME64: 'Time64',
  BOOLEAN: 'Bool', TIMESTAMP: 'DateTime', DEC: 'Decimal', FIXED: 'Decimal', NUMERIC: 'Decimal', BINARY: 'FixedString',
  FLOAT: 'Float32', REAL: 'Float32', SINGLE: 'Float32', DOUBLE: 'Float64', 'DOUBLE PRECISION': 'Float64',
  INET4: 'IPv4', INET6: 'IPv6', SMALLINT: 'Int16', 'SMALLINT SIGNED': 'Int16', INT: 'Int32', 'INT SIGNED': 'Int32',
  INTEGER: 'Int32', 'INTEGER SIGNED': 'Int32', MEDIUMINT: 'Int32', 'MEDIUMINT SIGNED': 'Int32', BIGINT: 'Int64',
  'BIGINT SIGNED': 'Int64', SIGNED: 'Int64', BYTE: 'Int8', INT1: 'Int8', 'INT1 SIGNED': 'Int8', TINYINT: 'Int8',
  'TINYINT SIGNED': 'Int8', 'BINARY LARGE OBJECT': 'String', 'BINARY VARYING': 'String', BLOB: 'String',
  BYTEA: 'String', CHAR: 'String', 'CHAR LARGE OBJECT': 'String', 'CHAR VARYING': 'String', CHARACTER: 'String',
  'CHARACTER LARGE OBJECT': 'String', 'CHARACTER VARYING': 'String', CLOB: 'String', LONGBLOB: 'String',
  LONGTEXT: 'String', MEDIUMBLOB: 'String', MEDIUMTEXT: 'String', 'NATIONAL CHAR': 'String',
  'NATIONAL CHAR VARYING': 'String', 'NATIONAL CHARACTER': 'String', 'NATIONAL CHARACTER LARGE OBJECT': 'String',
  'NATIONAL CHARACTER VARYING': 'String', NCHAR: 'String', 'NCHAR LARGE OBJECT': 'String', 'NCHAR VARYING': 'String',
  NVARCHAR: 'String', TEXT: 'String', TINYBLOB: 'String', TINYTEXT: 'String', VARBINARY: 'String', VARCHAR: 'String',
  VARCHAR2: 'String', 'SMALLINT UNSIGNED': 'UInt16', YEAR: 'UInt16', 'INT UNSIGNED': 'UInt32',
  'INTEGER UNSIGNED': 'UInt32', 'MEDIUMINT UNSIGNED': 'UInt32', 'BIGINT UNSIGNED': 'UInt64', BIT: 'UInt64',
  SET: 'UInt64', UNSIGNED: 'UInt64', 'INT1 UNSIGNED': 'UInt8', 'TINYINT UNSIGNED': 'UInt8',
};

function parseType(text: string): TypeNode {
  const trimmed = text.trim();
  const sig = significant(lex(trimmed));
  const words: string[] = [];
  let i = 0;
  while (sig[i]?.k === 'word') words.push(trimmed.slice(sig[i]!.s, sig[i]!.e)), i++;
  const written = words.join(' ');
  const family = FAMILIES.has(written) ? written : FAMILIES_CI[written.toUpperCase()];
  let args: string[] | undefined;
  const open = sig[i];
  if (open && open.k === 'punct' && trimmed.slice(open.s, open.e) === '(') {
    args = [];
    let depth = 0;
    let from = open.e;
    for (let k = i; k < sig.length; k++) {
      const t = sig[k]!;
      const p = t.k === 'punct' ? trimmed.slice(t.s, t.e) : '';
      if (p === '(' || p === '[') depth++;
      else if (p === ')' || p === ']') {
        if (--depth === 0) {
          const last = trimmed.slice(from, t.s).trim();
          if (last !== '' || args.length > 0) args.push(last);
          break;
        }
      } else if (p === ',' && depth === 1) {
        args.push(trimmed.slice(from, t.s).trim());
        from = t.e;
      }
    }
  }
  return { text: trimmed, family, written, args };
}

/** Integer families: [bits, signed]. Interval types are Int64 underneath and read the same way. */
const INTEGERS: Record<string, [number, boolean]> = {
  Int8: [8, true], Int16: [16, true], Int32: [32, true], Int64: [64, true], Int128: [128, true], Int256: [256, true],
  UInt8: [8, false], UInt16: [16, false], UInt32: [32, false], UInt64: [64, false], UInt128: [128, false],
  UInt256: [256, false],
};
for (const unit of ['Nanosecond', 'Microsecond', 'Millisecond', 'Second', 'Minute', 'Hour', 'Day', 'Week', 'Month', 'Quarter', 'Year'])
  INTEGERS[`Interval${unit}`] = [64, true];

const isNullableType = (t: TypeNode): boolean =>
  t.family === 'Nullable' ||
  (t.family === 'LowCardinality' && t.args?.length === 1 && parseType(t.args[0]!).family === 'Nullable');

// ─── Bytes, SQL literals, errors ───

const utf8 = (s: string): Buffer => Buffer.from(s, 'utf8');

/** Length of the valid UTF-8 sequence starting at b[i], or 0. */
function utf8SeqLen(b: Uint8Array, i: number): number {
  const x = b[i]!;
  let n: number;
  let min: number;
  if (x >= 0xc2 && x <= 0xdf) (n = 2), (min = 0x80);
  else if (x >= 0xe0 && x <= 0xef) (n = 3), (min = 0x800);
  else if (x >= 0xf0 && x <= 0xf4) (n = 4), (min = 0x10000);
  else return 0;
  if (i + n > b.length) return 0;
  let cp = x & (0xff >> (n + 1));
  for (let j = 1; j < n; j++) {
    const y = b[i + j]!;
    if ((y & 0xc0) !== 0x80) return 0;
    cp = (cp << 6) | (y & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return n;
}

const hex2 = (x: number): string => x.toString(16).toUpperCase().padStart(2, '0');

/** Bytes as a SQL literal quoted with `q`: any byte string round-trips, NUL included. */
function quoteBytes(b: Uint8Array, q: "'" | '`' = "'"): string {
  let out = q;
  let i = 0;
  while (i < b.length) {
    const x = b[i]!;
    if (x < 0x80) {
      if (x === 0x5c) out += '\\\\';
      else if (x === q.charCodeAt(0)) out += `\\${q}`;
      else if (x === 0) out += '\\0';
      else if (x === 0x0a) out += '\\n';
      else if (x === 0x09) out += '\\t';
      else if (x === 0x0d) out += '\\r';
      else if (x < 0x20 || x === 0x7f) out += `\\x${hex2(x)}`;
      else out += String.fromCharCode(x);
      i++;
      continue;
    }
    const n = utf8SeqLen(b, i);
    if (n === 0) {
      out += `\\x${hex2(x)}`;
      i++;
    } else {
      out += Buffer.from(b.subarray(i, i + n)).toString('utf8');
      i += n;
    }
  }
  return out + q;
}

const quote = (s: string): string => quoteBytes(utf8(s));

const castOf = (literal: string, type: string): string => `_CAST(${literal}, ${quote(type)})`;

/** `Code: N. DB::Exception: <base>: value <v> cannot be parsed as <T> for query parameter '<p>'. (NAME)` */
function parseError(code: number, codeName: string, base: string, ctx: ValueContext): ClickHouseError {
  return new ClickHouseError(
    code,
    `Code: ${code}. DB::Exception: ${base}: value ${ctx.raw} cannot be parsed as ${ctx.type} for query parameter '${ctx.name}'. (${codeName})`,
  );
}

/** The error ClickHouse raises when the value's text has bytes left over after its type's reader. */
function notParsedCompletely(ctx: ValueContext, consumedBytes: number): ClickHouseError {
  const b = utf8(ctx.raw);
  const prefix = b.subarray(0, consumedBytes).toString('utf8');
  return chError(
    Codes.BAD_QUERY_PARAMETER,
    `Value ${ctx.raw} cannot be parsed as ${ctx.type} for query parameter '${ctx.name}' because it isn't parsed completely: only ${consumedBytes} of ${b.length} bytes was parsed: ${prefix}`,
  );
}

/** Text this module refuses although ClickHouse would read something (garbage) from it; see the module doc. */
function cannotParse(ctx: ValueContext): ClickHouseError {
  return chError(
    Codes.BAD_QUERY_PARAMETER,
    `Value ${ctx.raw} cannot be parsed as ${ctx.type} for query parameter '${ctx.name}'`,
  );
}

// ─── Readers that reproduce ClickHouse's escaped text deserialization ───

const ESCAPES: Record<number, number> = { 97: 7, 98: 8, 101: 0x1b, 102: 12, 110: 10, 114: 13, 116: 9, 118: 11, 48: 0 };
const unhex = (x: number): number => (isDigit(x) ? x - 48 : x >= 97 && x <= 102 ? x - 87 : x >= 65 && x <= 70 ? x - 55 : 0xff);

/**
 * parseComplexEscapeSequence for the backslash at b[i]: appends the decoded bytes
 * and returns the index after the sequence, or 'escape' when it is cut short.
 */
function escapeSequence(b: Uint8Array, i: number, out: number[]): number | 'escape' {
  const y = b[i + 1];
  if (y === undefined) return 'escape';
  if (y === 120 /* x */) {
    if (b.length - (i + 2) < 2) return 'escape';
    out.push(((unhex(b[i + 2]!) << 4) + unhex(b[i + 3]!)) & 0xff);
    return i + 4;
  }
  if (y === 78 /* N: an empty string */) return i + 2;
  const decoded = ESCAPES[y] ?? y;
  // Unknown escapes keep their backslash (`\%` stays two bytes), except these and control characters.
  if (decoded > 31 && decoded !== 92 && decoded !== 39 && decoded !== 34 && decoded !== 96 && decoded !== 47 && decoded !== 61)
    out.push(92);
  out.push(decoded);
  return i + 2;
}

/**
 * readEscapedString: the value and the bytes consumed (it stops at a raw tab or newline).
 * A broken escape can only be at the very end; `lenient` drops it instead of failing.
 */
function readEscaped(b: Uint8Array, lenient = false): { value: Buffer; consumed: number } | 'escape' {
  const out: number[] = [];
  let i = 0;
  while (i < b.length) {
    const x = b[i]!;
    if (x === 9 || x === 10) break;
    if (x !== 92) {
      out.push(x);
      i++;
      continue;
    }
    const nextI = escapeSequence(b, i, out);
    if (nextI === 'escape') {
      if (!lenient) return 'escape';
      i = b.length;
      break;
    }
    i = nextI;
  }
  return { value: Buffer.from(out), consumed: i };
}

/** The value of a SQL string literal token (readQuotedStringWithSQLStyle). */
function sqlStringValue(literal: string): Buffer | undefined {
  const b = utf8(literal);
  if (b.length < 2 || b[0] !== 39 || b[b.length - 1] !== 39) return undefined;
  const inner = b.subarray(1, b.length - 1);
  const out: number[] = [];
  let i = 0;
  while (i < inner.length) {
    const x = inner[i]!;
    if (x === 39) {
      out.push(39);
      i += 2; // the lexer only lets a quote through doubled
    } else if (x === 92) {
      const nextI = escapeSequence(inner, i, out);
      if (nextI === 'escape') return undefined;
      i = nextI;
    } else {
      out.push(x);
      i++;
    }
  }
  return Buffer.from(out);
}

/** readIntTextUnsafe: optional '-' (signed only), then a lone '0' or digits; overflow wraps. */
function readIntUnsafe(raw: string, bits: number, signed: boolean): { value: bigint; consumed: number } | 'eof' {
  let i = 0;
  let negative = false;
  if (raw.length === 0) return 'eof';
  if (signed && raw[0] === '-') {
    negative = true;
    i++;
    if (i >= raw.length) return 'eof';
  }
  let res = 0n;
  if (raw[i] === '0') i++;
  else
    while (i < raw.length && isDigit(raw.charCodeAt(i))) {
      res = res * 10n + BigInt(raw.charCodeAt(i) - 48);
      i++;
    }
  const mod = 1n << BigInt(bits);
  let v = (negative ? -res : res) % mod;
  if (v < 0n) v += mod;
  if (signed && v >= mod >> 1n) v -= mod;
  return { value: v, consumed: i };
}

// ─── Encoding one value ───

interface ValueContext {
  name: string;
  /** The placeholder's type text, as ClickHouse quotes it in messages. */
  type: string;
  raw: string;
  /** `_request_body` is read as whole text, not escaped. */
  whole: boolean;
}

interface Encoded {
  /** The expression standing for the value. */
  expr: string;
  /** A bare literal for places that take no expression (setting values). */
  lit: string;
  /**
   * `expr` is `_CAST(lit, type)` (or `lit` itself) with `lit` ClickHouse's own
   * literal for the value, so a Nullable/LowCardinality wrapper may cast `lit`
   * straight to itself, as ClickHouse does.
   */
  direct: boolean;
}

function encode(t: TypeNode, typeText: string, ctx: ValueContext): Encoded {
  const family = t.family;
  const generic = (text: string): Encoded => ({ expr: castOf(quote(text), typeText), lit: quote(text), direct: false });
  const literal = (lit: string): Encoded => ({ expr: castOf(lit, typeText), lit, direct: true });
  const parsedBy = (b: Buffer): Encoded => ({ expr: castOf(quoteBytes(b), typeText), lit: quoteBytes(b), direct: false });

  /**
   * The escaped text read as a string; `rest` is true when a raw tab or newline ended it early.
   * Enum and JSON read it with the reader that drops a broken escape at the end (`a\` → `a`)
   * where String fails with CANNOT_PARSE_ESCAPE_SEQUENCE.
   */
  const read = (lenient = false): { value: Buffer; consumed: number; rest: boolean } => {
    const b = utf8(ctx.raw);
    if (ctx.whole) return { value: b, consumed: b.length, rest: false };
    const r = readEscaped(b, lenient);
    if (r === 'escape') throw parseError(25, 'CANNOT_PARSE_ESCAPE_SEQUENCE', 'Cannot parse escape sequence', ctx);
    return { ...r, rest: r.consumed < b.length };
  };
  const unescaped = (lenient = false): Buffer => {
    const r = read(lenient);
    if (r.rest) throw notParsedCompletely(ctx, r.consumed);
    return r.value;
  };

  if (family === 'String') {
    // Any String (an alias like VARCHAR(255) too) stays a bare literal, as in ClickHouse.
    const q = quoteBytes(unescaped());
    return { expr: q, lit: q, direct: true };
  }

  if (family === 'Nullable' || family === 'LowCardinality') {
    const inner = t.args?.length === 1 ? parseType(t.args[0]!) : undefined;
    if (!inner) return generic(ctx.raw);
    if (family === 'Nullable' || inner.family === 'Nullable') {
      if (!ctx.whole && ctx.raw === '\\N') return literal('NULL');
      if (!ctx.whole && /^\\N[\t\n]/.test(ctx.raw)) throw notParsedCompletely(ctx, 2);
    }
    const innerType = family === 'LowCardinality' && inner.family === 'Nullable' && inner.args?.length === 1 ? parseType(inner.args[0]!) : inner;
    const e = encode(innerType, innerType.text, ctx);
    // ClickHouse's literal casts straight to the wrapper; text the engine still has to
    // parse is parsed as the inner type first (so 'NULL' is not read as NULL).
    return e.direct ? literal(e.lit) : { expr: castOf(e.expr, typeText), lit: e.lit, direct: false };
  }

  const int = family ? INTEGERS[family] : undefined;
  if (int && (t.args === undefined || t.written !== family)) {
    const r = readIntUnsafe(ctx.raw, int[0], int[1]);
    if (r === 'eof') throw parseError(32, 'ATTEMPT_TO_READ_AFTER_EOF', 'Attempt to read after eof', ctx);
    if (r.consumed < ctx.raw.length) throw notParsedCompletely(ctx, utf8(ctx.raw.slice(0, r.consumed)).length);
    return int[0] > 64 ? literal(quote(r.value.toString())) : literal(r.value.toString());
  }

  switch (family) {
    case 'Float32':
    case 'Float64': {
      if (t.args !== undefined) return generic(ctx.raw);
      const f = floatLiteral(ctx.raw, family === 'Float32');
      return f === undefined ? generic(ctx.raw) : literal(f);
    }
    case 'Bool': {
      if (/^(1|t|true|y|yes|on|enable|enabled)$/i.test(ctx.raw)) return literal("'true'");
      if (/^(0|f|false|n|no|off|disable|disabled)$/i.test(ctx.raw)) return literal("'false'");
      return generic(ctx.raw);
    }
    case 'FixedString': {
      const n = t.args?.length === 1 && /^\d+$/.test(t.args[0]!) ? Number(t.args[0]) : undefined;
      if (n === undefined || n === 0) return parsedBy(unescaped());
      const r = read();
      const v = r.value;
      if (v.length > n) throw parseError(131, 'TOO_LARGE_STRING_SIZE', `Too large value for ${t.text}`, ctx);
      if (r.rest) throw notParsedCompletely(ctx, r.consumed);
      const padded = Buffer.concat([v, Buffer.alloc(n - v.length)]);
      return literal(quoteBytes(padded));
    }
    case 'Enum8':
    case 'Enum16':
    case 'Enum': {
      const r = read(true);
      const v = r.value;
      const values = enumValues(t);
      let id = values?.get(v.toString('latin1'));
      // Not a name: ClickHouse tries the text as the number of an element.
      if (id === undefined && values && /^[+-]?\d{1,6}$/.test(v.toString('latin1'))) {
        const n = Number(v.toString('latin1'));
        if ([...values.values()].includes(n)) id = n;
      }
      // A name that is not there fails in the engine, with its own message (UNKNOWN_ELEMENT_OF_ENUM).
      if (r.rest && (id !== undefined || !values)) throw notParsedCompletely(ctx, r.consumed);
      return id === undefined ? parsedBy(v) : literal(String(id));
    }
    case 'JSON':
    case 'Variant':
    case 'Dynamic':
      return parsedBy(unescaped(true));
    case 'UUID': {
      const m = /^([0-9a-f]{8})-?([0-9a-f]{4})-?([0-9a-f]{4})-?([0-9a-f]{4})-?([0-9a-f]{12})$/i.exec(ctx.raw);
      if (m && (ctx.raw.length === 32 || ctx.raw.length === 36) && (ctx.raw.length === 32 || /^.{8}-.{4}-.{4}-.{4}-/.test(ctx.raw)))
        return literal(quote(m.slice(1).join('-').toLowerCase()));
      return generic(ctx.raw);
    }
    case 'IPv4': {
      const m = /^(\d{1,4})\.(\d{1,4})\.(\d{1,4})\.(\d{1,4})$/.exec(ctx.raw);
      const octets = m?.slice(1).map(Number);
      if (octets && octets.every((o) => o <= 255)) return literal(quote(octets.join('.')));
      return generic(ctx.raw);
    }
    case 'Decimal':
    case 'Decimal32':
    case 'Decimal64':
    case 'Decimal128':
    case 'Decimal256': {
      const canon = decimalCanonical(t, ctx.raw);
      return canon === undefined ? generic(ctx.raw) : literal(quote(canon));
    }
    case 'Date':
    case 'Date32': {
      const days = t.args === undefined ? dateDays(ctx.raw, family === 'Date32') : undefined;
      return days === undefined ? generic(ctx.raw) : literal(String(days));
    }
    case 'DateTime':
      if (t.args !== undefined && !(t.args.length === 1 && t.args[0]!.startsWith("'"))) return generic(ctx.raw);
      return dateTime(ctx, typeText);
    case 'DateTime64': {
      const scale = t.args?.[0] !== undefined && /^\d$/.test(t.args[0]) ? Number(t.args[0]) : undefined;
      if (scale === undefined || (t.args!.length === 2 && !t.args![1]!.startsWith("'")) || t.args!.length > 2)
        return generic(ctx.raw);
      return dateTime64(ctx, typeText, scale);
    }
    case 'Map': {
      if (!ctx.raw.startsWith('{') || !ctx.raw.endsWith('}')) return generic(ctx.raw);
      const expr = `arrayElement(${castOf(quote(`[${ctx.raw}]`), `Array(${typeText})`)}, 1)`;
      return { expr, lit: quote(ctx.raw), direct: false };
    }
    default:
      return generic(ctx.raw);
  }
}

/** name (latin1-decoded bytes) → value, from Enum8('a' = 1, ...) or Enum('a', 'b'). */
function enumValues(t: TypeNode): Map<string, number> | undefined {
  if (!t.args?.length) return undefined;
  const out = new Map<string, number>();
  let auto = 0;
  let explicit = 0;
  for (const arg of t.args) {
    const sig = significant(lex(arg));
    const s = sig[0];
    if (s?.k !== 'string') return undefined;
    const name = sqlStringValue(arg.slice(s.s, s.e));
    if (!name) return undefined;
    let value: number;
    if (sig.length === 1) value = ++auto;
    else {
      const rest = arg.slice(sig[1]!.s).replace(/\s+/g, '');
      const m = /^=(-?\d+)$/.exec(rest);
      if (!m) return undefined;
      value = Number(m[1]);
      explicit++;
    }
    out.set(name.toString('latin1'), value);
  }
  if (auto > 0 && explicit > 0) return undefined;
  return out;
}

/** ClickHouse's printing of a Decimal literal (trailing zeros dropped), for plain text that needs no rounding. */
function decimalCanonical(t: TypeNode, raw: string): string | undefined {
  const a = t.args;
  let p: number;
  let s: number;
  const num = (x: string | undefined): number | undefined => (x !== undefined && /^\d+$/.test(x) ? Number(x) : undefined);
  if (t.family === 'Decimal') {
    const pp = num(a?.[0]);
    const ss = a?.length === 1 ? 0 : num(a?.[1]);
    if (pp === undefined || ss === undefined || (a?.length ?? 0) > 2) return undefined;
    (p = pp), (s = ss);
  } else {
    const ss = a?.length === 1 ? num(a[0]) : undefined;
    if (ss === undefined) return undefined;
    p = { Decimal32: 9, Decimal64: 18, Decimal128: 38, Decimal256: 76 }[t.family as 'Decimal32']!;
    s = ss;
  }
  if (s > p || p < 1 || p > 76) return undefined;
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(raw);
  if (!m) return undefined;
  const intPart = m[2]!.replace(/^0+(?=\d)/, '');
  const frac = (m[3] ?? '').slice(0, s); // digits past the scale are dropped, not rounded
  if ((intPart === '0' ? 0 : intPart.length) > p - s) return undefined;
  const fracTrim = frac.replace(/0+$/, '');
  const zero = intPart === '0' && fracTrim === '';
  return zero ? '0' : `${m[1]}${intPart}${fracTrim ? `.${fracTrim}` : ''}`;
}

const daysFromCivil = (y: number, m: number, d: number): number => {
  const dt = new Date(0);
  dt.setUTCFullYear(y, m - 1, d);
  dt.setUTCHours(0, 0, 0, 0);
  return Math.round(dt.getTime() / 86_400_000);
};

const daysInMonth = (y: number, m: number): number => {
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  return [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1]!;
};

const DATE32_MIN = -25567; // 1900-01-01
const DATE32_MAX = 120529; // 2299-12-31

/**
 * Day number of a YYYY-MM-DD text (ClickHouse prints Date literals as numbers):
 * an impossible month or day gives the type's minimum, a day past the month's
 * end rolls over, and the result is clamped to the type's range — as ClickHouse's
 * date reader does. Other spellings are left to the engine.
 */
function dateDays(raw: string, date32: boolean): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(raw);
  if (!m) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const [lo, hi] = date32 ? [DATE32_MIN, DATE32_MAX] : [0, 65535];
  if (mo < 1 || mo > 12 || d < 1 || d > 31) return lo;
  const days = daysFromCivil(y, mo, 1) + d - 1;
  return Math.min(hi, Math.max(lo, days));
}

const INT64_MAX = (1n << 63n) - 1n;
const p2 = (n: number): string => String(n).padStart(2, '0');

interface Broken {
  y: number;
  mo: number;
  d: number;
  h: number;
  mi: number;
  s: number;
  /** Text after the date-time part (DateTime64's fraction), or ''. */
  rest: string;
}

/**
 * The date[-time] text the way readDateTimeText takes it apart: fixed positions,
 * separators not checked (any byte), `YYYY?MM?DD` alone or with `[ T]hh?mm?ss`
 * when at least 19 bytes are there. undefined if this is not such a text or a
 * digit position holds no digit (ClickHouse would compute garbage from it).
 */
function breakDown(raw: string, allowRest: boolean): Broken | undefined {
  if (!/^[\x00-\x7f]*$/.test(raw)) return undefined;
  const m = /^(\d{4})\D(\d\d)[\s\S](\d\d)(?:[ T](\d\d)[\s\S](\d\d)[\s\S](\d\d))?([\s\S]*)$/.exec(raw);
  if (!m) return undefined;
  const rest = m[7]!;
  if (m[4] === undefined && raw.length >= 19 && (raw[10] === ' ' || raw[10] === 'T')) return undefined;
  if (rest !== '' && !allowRest) return undefined;
  return {
    y: Number(m[1]), mo: Number(m[2]), d: Number(m[3]),
    h: Number(m[4] ?? 0), mi: Number(m[5] ?? 0), s: Number(m[6] ?? 0), rest,
  };
}

/**
 * Canonical 'YYYY-MM-DD hh:mm:ss' for broken-down parts, or 'zero' when
 * ClickHouse's makeDateTime gives 0 (year 0, month or day out of 1..12 / 1..31),
 * or undefined for an hour/minute/second out of range (refused here).
 * A day past the month's end rolls into the next month, as ClickHouse's LUT does.
 */
function canonicalDateTime(b: Broken): string | 'zero' | undefined {
  if (b.y === 0 || b.mo < 1 || b.mo > 12 || b.d < 1 || b.d > 31) return 'zero';
  if (b.h > 23 || b.mi > 59 || b.s > 59) return undefined;
  let { y, mo, d } = b;
  if (d > daysInMonth(y, mo)) {
    const dt = new Date(0);
    dt.setUTCFullYear(y, mo - 1, d);
    (y = dt.getUTCFullYear()), (mo = dt.getUTCMonth() + 1), (d = dt.getUTCDate());
  }
  return `${String(y).padStart(4, '0')}-${p2(mo)}-${p2(d)} ${p2(b.h)}:${p2(b.mi)}:${p2(b.s)}`;
}

/** A scaled integer as ClickHouse prints a Decimal: `-1.5`, `12345`, `0.5` (no trailing zeros). */
function decimalText(v: bigint, scale: number): string {
  const neg = v < 0n;
  const digits = (neg ? -v : v).toString().padStart(scale + 1, '0');
  const whole = digits.slice(0, digits.length - scale);
  const frac = digits.slice(digits.length - scale).replace(/0+$/, '');
  return `${neg ? '-' : ''}${whole}${frac ? `.${frac}` : ''}`;
}

/**
 * The error ClickHouse's date-time reader raises for a text it cannot take, as
 * far as the reader's steps are followed here: CANNOT_PARSE_DATETIME where it
 * gives up, BAD_QUERY_PARAMETER when bytes are left over after what it read.
 */
function dateTimeFailure(ctx: ValueContext, dt64: boolean): ClickHouseError {
  const raw = ctx.raw;
  const length = utf8(raw).length;
  const failed = (message: string): ClickHouseError => parseError(41, 'CANNOT_PARSE_DATETIME', message, ctx);
  const digitsFrom = (j: number): number => {
    while (j < raw.length && isDigit(raw.charCodeAt(j))) j++;
    return j;
  };
  const fractionFrom = (j: number): number => (dt64 && raw[j] === '.' ? digitsFrom(j + 1) : j);
  const leftover = (consumed: number): ClickHouseError =>
    consumed >= raw.length ? cannotParse(ctx) : notParsedCompletely(ctx, utf8(raw.slice(0, consumed)).length);
  if (!dt64 && raw[0] === '-') return failed('Cannot parse datetime');
  if (length >= 19) {
    if (!isDigit(raw.charCodeAt(4))) return leftover(fractionFrom(raw[10] === ' ' || raw[10] === 'T' ? 19 : 10));
    const sign = raw[0] === '-' || raw[0] === '+' ? 1 : 0;
    if (!dt64 && !isDigit(raw.charCodeAt(sign))) return failed('Cannot parse datetime');
    return leftover(fractionFrom(digitsFrom(sign)));
  }
  if (raw[0] === '-') return dt64 ? leftover(fractionFrom(digitsFrom(1))) : failed('Cannot parse datetime');
  const n = digitsFrom(0);
  if (n === 4 && raw.length > 4) {
    if (length < 10) return failed(`Cannot parse DateTime ${raw}`);
    if (raw[10] === ' ' || raw[10] === 'T') return failed(`Cannot parse time component of DateTime ${raw.slice(11)}`);
    return leftover(fractionFrom(10));
  }
  if (n <= 4 && !(dt64 && raw[n] === '.')) return failed('Cannot parse DateTime');
  return leftover(fractionFrom(n));
}

function dateTime(ctx: ValueContext, typeText: string): Encoded {
  const raw = ctx.raw;
  const literal = (lit: string): Encoded => ({ expr: castOf(lit, typeText), lit, direct: true });
  if (/^\d+$/.test(raw)) {
    if (raw.length <= 4) throw parseError(41, 'CANNOT_PARSE_DATETIME', 'Cannot parse DateTime', ctx);
    const n = BigInt(raw);
    if (n > INT64_MAX) throw parseError(72, 'CANNOT_PARSE_NUMBER', 'Overflow while parsing a number', ctx);
    const clamped = n > 0xffffffffn ? 0xffffffffn : n;
    return literal(clamped.toString());
  }
  const b = breakDown(raw, false);
  if (!b) throw dateTimeFailure(ctx, false);
  const canon = canonicalDateTime(b);
  if (canon === undefined) throw cannotParse(ctx);
  if (canon === 'zero') return literal('0');
  return literal(quote(canon));
}

function dateTime64(ctx: ValueContext, typeText: string, scale: number): Encoded {
  const raw = ctx.raw;
  const pow = 10n ** BigInt(scale);
  const fraction = (digits: string): bigint => BigInt((digits.slice(0, scale) + '0'.repeat(scale)).slice(0, scale) || '0');
  const stored = (v: bigint): Encoded => {
    if (v > INT64_MAX || v < -INT64_MAX - 1n) throw cannotParse(ctx);
    // ClickHouse's literal is the decimal number of seconds; the engine's own reader takes
    // that text back only for 9- and 10-digit whole parts, anything else goes in as raw bits.
    const seconds = decimalText(v, scale);
    if (/^\d{9,10}(\.\d+)?$/.test(seconds)) return { expr: castOf(quote(seconds), typeText), lit: quote(seconds), direct: true };
    return { expr: `reinterpret(${castOf(v.toString(), 'Int64')}, ${quote(typeText)})`, lit: quote(seconds), direct: false };
  };
  const b = breakDown(raw, true);
  if (b) {
    const frac = /^(?:\.(\d*))?$/.exec(b.rest);
    if (!frac) throw dateTimeFailure(ctx, true);
    const canon = canonicalDateTime(b);
    if (canon === undefined) throw cannotParse(ctx);
    const f = fraction(frac[1] ?? '');
    if (canon === 'zero') return stored(f);
    const text = scale > 0 ? `${canon}.${f.toString().padStart(scale, '0')}` : canon;
    return { expr: castOf(quote(text), typeText), lit: quote(text), direct: true };
  }
  const m = /^(-?)(\d*)(?:\.(\d*))?$/.exec(raw);
  if (!m) throw dateTimeFailure(ctx, true);
  const negative = m[1] === '-';
  const digits = m[2]!;
  const hasDot = m[3] !== undefined;
  if (raw === '') return stored(0n);
  if (!negative && digits.length <= 4 && (!hasDot || digits.length === 4))
    throw parseError(41, 'CANNOT_PARSE_DATETIME', 'Cannot parse DateTime', ctx);
  if (negative && digits.length > 18) throw cannotParse(ctx);
  const whole = BigInt(digits || '0');
  if (whole > INT64_MAX) throw parseError(72, 'CANNOT_PARSE_NUMBER', 'Overflow while parsing a number', ctx);
  if (hasDot) {
    const f = fraction(m[3]!);
    return stored(negative && whole !== 0n ? -whole * pow - f : whole * pow + f);
  }
  if (!negative && whole >= 10413792000n) {
    // Already scaled to sub-second units, as ClickHouse reads such long timestamps.
    if (scale === 0) throw cannotParse(ctx);
    return stored(whole);
  }
  return stored((negative ? -whole : whole) * pow);
}

/**
 * A Float64 literal the way ClickHouse prints one (shortest round-trip digits,
 * `5.` for integral values, `1e21`, `nan`, `-inf`), for plain decimal text;
 * undefined for anything else, which is left to the engine's own reader.
 */
function floatLiteral(raw: string, float32: boolean): string | undefined {
  const word = /^([+-]?)(nan|inf|infinity)$/i.exec(raw);
  if (word) return word[2]!.toLowerCase() === 'nan' ? 'nan' : `${word[1] === '-' ? '-' : ''}inf`;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(raw)) return undefined;
  let v = Number(raw);
  if (float32) {
    const f = Math.fround(v);
    if (f !== v && Number.isFinite(f)) {
      // Rounding twice (decimal → double → float) can differ from rounding once only
      // when the double sits exactly halfway between two floats; leave those to the engine.
      const other = Math.fround(v + (v - f));
      if (other !== f && (f + other) / 2 === v) return undefined;
    }
    v = f;
  }
  if (Number.isNaN(v)) return 'nan';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  if (Object.is(v, -0)) return '-0.';
  const s = String(v).replace('e+', 'e');
  return /[.e]/.test(s) ? s : `${s}.`;
}

// ─── Identifiers ───

function backQuote(name: string): string {
  return quoteBytes(utf8(name), '`');
}

// ─── Entry point ───

const has = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

/**
 * The query with every `{name:Type}` placeholder replaced by an expression
 * giving exactly the value ClickHouse's own parameter binding would (see the
 * module doc). `params` maps names to their text in ClickHouse's escaped form,
 * as `param_<name>` carries it over HTTP.
 *
 * Throws ClickHouseError: 456 UNKNOWN_QUERY_PARAMETER for a placeholder whose
 * parameter is missing (unless its type is Nullable, which reads as NULL);
 * 457 BAD_QUERY_PARAMETER, or ClickHouse's own code (25, 32, 41, 72, 131) for a
 * value its type's reader refuses where that is decided here. Values decided by
 * the engine (`_CAST('text', 'T')`) fail there with the engine's error.
 */
export function substituteParams(sql: string, params: Readonly<Record<string, string>>): string {
  if (!sql.includes('{')) return sql;
  const sig = significant(lex(sql));
  const placeholders = findPlaceholders(sql, sig);
  if (placeholders.length === 0) return sql;
  const { stopAt } = statementShape(sql, sig);
  let out = '';
  let last = 0;
  for (const ph of placeholders) {
    if (ph.start >= stopAt) break;
    const replacement = render(ph, params);
    // A blank only where the replacement would otherwise run into its neighbour's token.
    const before = sql[ph.start - 1] ?? ' ';
    const after = sql[ph.end] ?? ' ';
    const padBefore = /[\w$'"`]/.test(before) || (before === '-' && replacement.startsWith('-'));
    const padAfter = /[\w$'"`]/.test(after);
    out += sql.slice(last, ph.start) + (padBefore ? ' ' : '') + replacement + (padAfter ? ' ' : '');
    last = ph.end;
  }
  return out + sql.slice(last);
}

function render(ph: Placeholder, params: Readonly<Record<string, string>>): string {
  if (ph.identifier) {
    if (!has(params, ph.name)) throw missing(ph.name);
    const v = params[ph.name]!;
    if (v === '')
      throw chError(Codes.BAD_QUERY_PARAMETER, `Empty Identifier part after parameter \`${ph.name}\` substitution`);
    return backQuote(v);
  }
  const type = parseType(ph.type);
  if (!has(params, ph.name)) {
    if (isNullableType(type)) return ph.bare ? 'NULL' : castOf('NULL', ph.type);
    throw missing(ph.name);
  }
  const ctx: ValueContext = { name: ph.name, type: ph.type, raw: params[ph.name]!, whole: ph.name === '_request_body' };
  const e = encode(type, ph.type, ctx);
  return ph.bare ? e.lit : e.expr;
}

const missing = (name: string): ClickHouseError =>
  chError(Codes.UNKNOWN_QUERY_PARAMETER, `Substitution \`${name}\` is not set`);
