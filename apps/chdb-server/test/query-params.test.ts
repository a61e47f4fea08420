import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Session } from 'chdb';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClickHouseError } from '../src/errors.js';
import { substituteParams } from '../src/query-params.js';

/**
 * The oracle is chDB's own parameter binding (ClickHouse's ReplaceQueryParameterVisitor),
 * reached through the native addon so the parameter text arrives exactly as given: chdb's
 * JS queryBind would escape strings a second time. Every comparison runs a query twice on
 * one connection, one after the other — (a) natively bound, (b) substituted by us and run
 * as a plain query — and wants the same bytes back, or an error from both.
 */
interface NativeAddon {
  QueryWithParamsConnection(conn: unknown, sql: string, format: string, params: Record<string, string>): unknown;
  QueryWithConnection(conn: unknown, sql: string, format: string): unknown;
  QueryAsyncConnection(conn: unknown, sql: string, format: string): Promise<{ bytes: Uint8Array }>;
}

const require = createRequire(import.meta.url);
const addon = (
  require(join(dirname(require.resolve('chdb')), 'dist', 'loader.js')) as { loadNative(): NativeAddon }
).loadNative();

let dir: string;
let session: Session;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'query-params-test-'));
  session = new Session(dir);
});

afterAll(() => {
  session.close();
  rmSync(dir, { recursive: true, force: true });
});

type Outcome = { ok: true; out: string } | { ok: false; code: number; message: string };

const codeOf = (message: string): number => Number(/Code: (\d+)\./.exec(message)?.[1] ?? -1);

function text(r: unknown): string {
  const bytes = (r as { bytes?: Uint8Array }).bytes ?? (r as Uint8Array);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

function native(sql: string, params: Record<string, string>, format: string): Outcome {
  try {
    return { ok: true, out: text(addon.QueryWithParamsConnection(session.connection, sql, format, params)) };
  } catch (e) {
    const message = (e as Error).message;
    return { ok: false, code: codeOf(message), message };
  }
}

function ours(sql: string, params: Record<string, string>, format: string): Outcome & { sql?: string } {
  let rewritten: string;
  try {
    rewritten = substituteParams(sql, params);
  } catch (e) {
    if (!(e instanceof ClickHouseError)) throw e;
    return { ok: false, code: e.code, message: e.message };
  }
  try {
    return { ok: true, out: text(addon.QueryWithConnection(session.connection, rewritten, format)), sql: rewritten };
  } catch (e) {
    const message = (e as Error).message;
    return { ok: false, code: codeOf(message), message, sql: rewritten };
  }
}

interface Compared {
  native: Outcome;
  ours: Outcome & { sql?: string };
}

function compare(sql: string, params: Record<string, string>, format = 'TSVWithNamesAndTypes'): Compared {
  return { native: native(sql, params, format), ours: ours(sql, params, format) };
}

/** Both succeed with byte-equal output, or both fail (with the same code when `sameCode`). */
function expectAgreement(sql: string, params: Record<string, string>, opts: { sameCode?: boolean; format?: string } = {}): Compared {
  const r = compare(sql, params, opts.format);
  const context = `${sql} ${JSON.stringify(params)} → ${r.ours.sql ?? '(not run)'}`;
  expect(r.ours.ok, `${context}\nnative: ${JSON.stringify(r.native)}\nours: ${JSON.stringify(r.ours)}`).toBe(r.native.ok);
  if (r.native.ok && r.ours.ok) expect(r.ours.out, context).toBe(r.native.out);
  if (!r.native.ok && !r.ours.ok && opts.sameCode)
    expect(r.ours.code, `${context}\nnative: ${r.native.message}\nours: ${r.ours.message}`).toBe(r.native.code);
  return r;
}

const valueQuery = (type: string): string => `SELECT toTypeName(v), v FROM (SELECT {p:${type}} AS v)`;
const expectValue = (type: string, raw: string, opts: { sameCode?: boolean } = {}): Compared =>
  expectAgreement(valueQuery(type), { p: raw }, opts);

describe('substituteParams without the engine', () => {
  it('leaves queries without placeholders alone and ignores parameters nobody uses', () => {
    expect(substituteParams('SELECT 1', { x: '1' })).toBe('SELECT 1');
    expect(substituteParams("SELECT '{a:UInt8}', {b:String}", { b: 'x', c: 'unused' })).toBe("SELECT '{a:UInt8}', 'x'");
  });

  it('does not look inside string literals, quoted identifiers, comments or heredocs', () => {
    const sql =
      "SELECT 'it''s {a:UInt8}', 'x\\'{a:UInt8}', `{a:UInt8}`, \"{a:UInt8}\", $$ {a:UInt8} $$, $t$ {a:UInt8} $t$ -- {a:UInt8}\n" +
      '/* {a:UInt8} /* nested {a:UInt8} */ {a:UInt8} */ # {a:UInt8}\n#!{a:UInt8}\n// {a:UInt8}\n';
    expect(substituteParams(sql, {})).toBe(sql);
  });

  it('replaces each placeholder with ClickHouse-shaped expressions', () => {
    expect(substituteParams('SELECT {a:UInt8}, { b : String }, {c:Nullable(Int32)}', { a: '300', b: "it\\'s", c: '\\N' })).toBe(
      "SELECT _CAST(44, 'UInt8'), 'it\\'s', _CAST(NULL, 'Nullable(Int32)')",
    );
    expect(substituteParams('SELECT {t:DateTime64(3, \'UTC\')}', { t: '1700000000.5' })).toBe(
      "SELECT _CAST('1700000000.5', 'DateTime64(3, \\'UTC\\')')",
    );
    // The type keeps what ClickHouse keeps: everything up to the closing brace.
    expect(substituteParams('SELECT {a:UInt8 /* c */ }', { a: '1' })).toBe("SELECT _CAST(1, 'UInt8 /* c */ ')");
    // Tokens stay apart.
    expect(substituteParams('SELECT{a:UInt8}+{a:UInt8}', { a: '1' })).toBe("SELECT _CAST(1, 'UInt8')+_CAST(1, 'UInt8')");
    expect(substituteParams('SELECT 1-{a:Int8}', { a: '-1' })).toBe("SELECT 1-_CAST(-1, 'Int8')");
  });

  it('writes any byte string as a literal the engine reads back exactly', () => {
    expect(substituteParams('SELECT {s:String}', { s: '\\0\\x01\\xff\\t\\n\\r\\\\é\\\'' })).toBe(
      "SELECT '\\0\\x01\\xFF\\t\\n\\r\\\\é\\''",
    );
  });

  it('back-quotes identifiers as one name part', () => {
    expect(substituteParams('SELECT * FROM {db:Identifier}.{t:Identifier}', { db: 'd', t: 'a.b`c\\' })).toBe(
      'SELECT * FROM `d`.`a.b\\`c\\\\`',
    );
  });

  it('writes bare literals where no expression may stand', () => {
    expect(substituteParams('SELECT 1 SETTINGS max_threads = {n:UInt64}, log_comment = {c:String}', { n: '2', c: 'x' })).toBe(
      "SELECT 1 SETTINGS max_threads = 2, log_comment = 'x'",
    );
    expect(substituteParams('SET max_block_size = 10, max_threads = {n:UInt64}', { n: '2' })).toBe(
      'SET max_block_size = 10, max_threads = 2',
    );
    expect(substituteParams('SELECT f(a = 1, b = {n:UInt64})', { n: '2' })).toBe("SELECT f(a = 1, b = _CAST(2, 'UInt64'))");
    expect(substituteParams('UPDATE t SET a = {n:UInt64} WHERE 1', { n: '2' })).toBe("UPDATE t SET a = _CAST(2, 'UInt64') WHERE 1");
    expect(substituteParams('SELECT t.{i:UInt8}', { i: '1' })).toBe('SELECT t.1');
  });

  it("keeps a view's body and an INSERT's data as they are", () => {
    const view = 'CREATE VIEW {v:Identifier} AS SELECT * FROM t WHERE x = {x:UInt8}';
    expect(substituteParams(view, { v: 'pv', x: '1' })).toBe('CREATE VIEW `pv` AS SELECT * FROM t WHERE x = {x:UInt8}');
    const tsv = 'INSERT INTO t FORMAT TSV\n{a:UInt8}\n';
    expect(substituteParams(tsv, {})).toBe(tsv);
    expect(substituteParams('INSERT INTO t VALUES ({a:UInt8})', { a: '1' })).toBe("INSERT INTO t VALUES (_CAST(1, 'UInt8'))");
    expect(substituteParams('INSERT INTO t FORMAT Values ({a:UInt8})', { a: '1' })).toBe(
      "INSERT INTO t FORMAT Values (_CAST(1, 'UInt8'))",
    );
  });

  it('raises ClickHouse errors for missing and unreadable parameters', () => {
    const err = (sql: string, params: Record<string, string>): ClickHouseError => {
      try {
        substituteParams(sql, params);
      } catch (e) {
        if (e instanceof ClickHouseError) return e;
        throw e;
      }
      throw new Error('no error');
    };
    expect(err('SELECT {x:UInt8}', {})).toMatchObject({
      code: 456,
      message: 'Code: 456. DB::Exception: Substitution `x` is not set. (UNKNOWN_QUERY_PARAMETER)',
    });
    // An own property only: names like `constructor` are not parameters.
    expect(err('SELECT {constructor:String}', {}).code).toBe(456);
    expect(err('SELECT {x:UInt8}', { x: '5a' })).toMatchObject({
      code: 457,
      message:
        "Code: 457. DB::Exception: Value 5a cannot be parsed as UInt8 for query parameter 'x' because it isn't parsed completely: only 1 of 2 bytes was parsed: 5. (BAD_QUERY_PARAMETER)",
    });
    expect(err('SELECT {x:Identifier}', { x: '' })).toMatchObject({
      code: 457,
      message: 'Code: 457. DB::Exception: Empty Identifier part after parameter `x` substitution. (BAD_QUERY_PARAMETER)',
    });
    expect(err('SELECT {x:String}', { x: 'a\\' }).code).toBe(25);
    // A missing Nullable parameter is NULL, as in ClickHouse.
    expect(substituteParams('SELECT {x:Nullable(UInt8)}', {})).toBe("SELECT _CAST(NULL, 'Nullable(UInt8)')");
  });
});

describe('substituteParams agrees with chDB native binding', () => {
  /** [type, escaped text], each compared through `SELECT toTypeName(v), v FROM (SELECT {p:T} AS v)`. */
  const values: [string, string][] = [
    // String: TSV escapes, \N (an empty string here), unknown escapes keep the backslash, \xHH, raw tab ends the value
    ['String', "it\\'s"], ['String', 'a\\tb\\nc\\\\d'], ['String', 'é ✓ 𝄞'], ['String', ''], ['String', '\\N'],
    ['String', 'a\\zb\\%'], ['String', '\\xZZ\\x41\\xff'], ['String', 'a\\'], ['String', 'a\\x4'], ['String', 'a\tb'],
    ['String', 'a\nb'], ['String', 'a\rb'], ['String', '\\0'], ['String', '"quoted" `back`'], ['TEXT', 'alias'],
    ['VARCHAR(255)', 'x'],
    ['FixedString(3)', 'ab'], ['FixedString(3)', 'abc'], ['FixedString(3)', 'abcd'], ['FixedString(3)', 'a\\0b'],
    ['Nullable(String)', '\\N'], ['Nullable(String)', 'NULL'], ['Nullable(String)', '\\Nx'], ['Nullable(String)', '\\N\tx'],
    ['Nullable(Int32)', '\\N'], ['Nullable(Int32)', 'NULL'], ['Nullable(Int32)', '7'], ['Nullable(Float64)', 'nan'],
    ['Nullable(Date)', '2024-01-02'], ['Nullable(FixedString(4))', 'NULL'], ['Nullable(Decimal(9,2))', 'null'],
    ['Int8', '127'], ['Int8', '-128'], ['Int8', '-129'], ['UInt8', '255'], ['UInt8', '300'], ['UInt8', '-1'],
    ['Int16', '-32768'], ['Int32', '2147483648'], ['Int64', '-9223372036854775808'], ['UInt64', '18446744073709551615'],
    ['UInt64', '18446744073709551616'], ['Int128', '-170141183460469231731687303715884105728'],
    ['UInt128', '340282366920938463463374607431768211455'],
    ['Int256', '-57896044618658097711785492504343953926634992332820282019728792003956564819968'],
    ['UInt256', '115792089237316195423570985008687907853269984665640564039457584007913129639935'],
    ['Int32', '+5'], ['Int32', '05'], ['Int32', '0'], ['Int32', '-0'], ['Int32', ''], ['Int32', '-'], ['Int32', ' 5'],
    ['INT(11)', '7'], ['TINYINT UNSIGNED', '300'], ['IntervalDay', '-5'],
    ['Float64', 'nan'], ['Float64', '-nan'], ['Float64', 'inf'], ['Float64', '-inf'], ['Float64', 'Infinity'], ['Float64', '-0'],
    ['Float64', '1e308'], ['Float64', '1e309'], ['Float64', '4.9e-324'], ['Float64', '0.1'], ['Float64', '5'], ['Float64', '.5'],
    ['Float64', '1.'], ['Float64', '+1'], ['Float64', '1e21'], ['Float64', '0x10'], ['Float64', '1_000'], ['Float32', '0.1'],
    ['Float32', '3.4028235e38'], ['Float32', '1e39'], ['Float32', '16777217'], ['DOUBLE PRECISION', '7'], ['BFloat16', '1.5'],
    ['Decimal(38,10)', '1234567890123456789012345678.1234567891'], ['Decimal(38,10)', '1.12345678901'],
    ['Decimal(9,2)', '1.50'], ['Decimal(9,2)', '-0'], ['Decimal(9,2)', '1e2'], ['Decimal(9,2)', '1.129'], ['Decimal(9,2)', '-1.129'],
    ['Decimal(9,2)', '12345678.1'], ['Decimal32(2)', '007.10'], ['Decimal256(20)', '-1.5'],
    ['Bool', 'true'], ['Bool', 'FALSE'], ['Bool', 'yes'], ['Bool', 'N'], ['Bool', 'enabled'], ['Bool', '1'], ['Bool', 'maybe'],
    ['Date', '2024-01-02'], ['Date', '20240102'], ['Date', '2024-1-2'], ['Date', '2024/01/02'], ['Date', '2200-01-01'],
    ['Date', '1969-12-31'], ['Date', '2024-02-30'], ['Date', '2024-13-01'], ['Date', '19000'], ['Date32', '1900-01-01'],
    ['Date32', '1899-12-31'], ['Date32', '2299-12-31'],
    ["DateTime('UTC')", '2024-01-02 03:04:05'], ["DateTime('UTC')", '2024-01-02T03:04:05'], ["DateTime('UTC')", '2024-01-02'],
    ["DateTime('UTC')", '2024/01/02 03.04.05'], ["DateTime('UTC')", '1700000000'], ["DateTime('UTC')", '01700000000'],
    ["DateTime('UTC')", '17000000000'], ["DateTime('UTC')", '12345'], ["DateTime('UTC')", '1234'],
    ["DateTime('UTC')", '9223372036854775808'], ["DateTime('UTC')", '0000-01-01 00:00:00'], ["DateTime('UTC')", '2024-02-31 00:00:00'],
    ["DateTime('UTC')", '2024-13-01'], ["DateTime('UTC')", '2024-01-02 03:04:05Z'], ["DateTime('UTC')", '2024-01-02 03:04:05.5'],
    ["DateTime('UTC')", ''], ["DateTime('UTC')", '-1'], ["DateTime('America/New_York')", '2024-03-10 02:30:00'],
    ["DateTime('America/New_York')", '2024-11-03 01:30:00'], ['DateTime', '2024-01-02 03:04:05'],
    ["DateTime64(6,'Asia/Tokyo')", '2024-01-02 03:04:05.123456'], ["DateTime64(6,'Asia/Tokyo')", '2024-01-02 03:04:05.1234567'],
    ["DateTime64(6,'Asia/Tokyo')", '1700000000.5'], ["DateTime64(3,'UTC')", '2000-01-17.5'], ["DateTime64(3,'UTC')", '-1.5'],
    ["DateTime64(3,'UTC')", '-0.5'], ["DateTime64(3,'UTC')", '.5'], ["DateTime64(3,'UTC')", ''], ["DateTime64(3,'UTC')", '-'],
    ["DateTime64(3,'UTC')", '1.5'], ["DateTime64(3,'UTC')", '123'], ["DateTime64(3,'UTC')", '12345'],
    ["DateTime64(3,'UTC')", '1234.5'], ["DateTime64(3,'UTC')", '1700000000123'], ["DateTime64(3,'UTC')", '99999999999999999'],
    ["DateTime64(3,'UTC')", '0000-01-01 00:00:00.5'], ["DateTime64(3,'UTC')", '2024-01-02 03:04:05.123abc'],
    ["DateTime64(0,'UTC')", '-1.5'], ["DateTime64(9,'UTC')", '1700000000.123456789123'],
    ['UUID', '61f0c404-5cb3-11e7-907b-a6006ad3dba0'], ['UUID', '61F0C4045CB311E7907BA6006AD3DBA0'],
    ['UUID', '{61f0c404-5cb3-11e7-907b-a6006ad3dba0}'], ['UUID', 'x'],
    ['IPv4', '127.0.0.1'], ['IPv4', '0127.0.0.010'], ['IPv4', '256.1.1.1'], ['IPv4', '1.2.3.4.5'], ['IPv4', '2130706433'],
    ['IPv6', '::1'], ['IPv6', '2001:DB8::1'], ['IPv6', '127.0.0.1'], ['IPv6', '::ffff:1.2.3.4'], ['IPv6', 'zz'],
    ["Enum8('a' = 1, 'b' = 2)", 'b'], ["Enum8('a' = 1, 'b' = 2)", '2'], ["Enum8('a' = 1, 'b' = 2)", '+2'],
    ["Enum8('a' = 1, 'b' = 2)", 'c'], ["Enum8('a' = 1, 'b' = 2)", '3'], ["Enum8('a' = 1, 'b' = 2)", 'b\tx'],
    ["Enum8('a' = 1, 'b' = 2)", 'c\tx'], ["Enum8('a' = -1, 'it''s' = 2)", "it\\'s"], ["Enum('a', 'b')", 'b'],
    ["Enum16('x\\'y' = -300)", "x'y"], ["Enum8('a' = 1, 'a\\\\' = 2)", 'a\\'], ["Enum8('a' = 1, 'a\\\\' = 2)", 'a\\\\'],
    ['Array(String)', "['a\\'b', 'c\\\\d', '\\N']"], ['Array(String)', "['a\tb']"], ['Array(String)', "['a''b']"],
    ['Array(String)', '["a"]'], ['Array(String)', ' []'], ['Array(Nullable(Int32))', '[1,NULL,3]'],
    ['Array(Nullable(Int32))', '[1,\\N]'], ['Array(Int32)', '[1,NULL]'], ['Array(UInt8)', '[300]'],
    ['Array(DateTime(\'UTC\'))', "['2024-01-02 03:04:05']"], ['Array(Float64)', '[nan,inf,-0]'],
    ['Tuple(String, UInt8)', "('a',1)"], ['Tuple(a String, b UInt8)', "('a',300)"], ['Tuple(String, UInt8)', "('a\\\\b\\'',1)"],
    ['Map(String, Array(UInt8))', "{'a':[1,2],'b':[]}"], ['Map(String, Array(UInt8))', "{'a':[1], 'a':[2]}"],
    ['Map(String, UInt8)', '{}'], ['Map(String, UInt8)', " {'a':1}"], ['Map(String, UInt8)', "{'a':1} "],
    ['Map(String, Array(Nullable(UInt8)))', "{'x':[1,NULL]}"],
    ['LowCardinality(String)', "a\\'b"], ['LowCardinality(Nullable(String))', '\\N'], ['LowCardinality(Nullable(String))', 'x'],
    ['LowCardinality(UInt8)', '5'],
    ['JSON', '{"a":1,"b":"x"}'], ['JSON', '{"a":"it\\\'s"}'], ['JSON', '{"a":"x\\ty"}'], ['JSON', 'a\\'],
    ['Variant(String, UInt64)', '42'], ['Dynamic', '42'], ['Time', '12:34:56'], ['Point', '(1,2)'],
  ];

  it.each(values)('%s from %j', (type, raw) => {
    expectValue(type, raw);
  });

  it('gives the same error codes where the value is read here', () => {
    const cases: [string, string][] = [
      ['String', 'a\\'], ['String', 'a\tb'], ['FixedString(2)', 'abc'], ['Int32', ''], ['Int32', '5x'], ['UInt8', '-1'],
      ["DateTime('UTC')", '1234'], ["DateTime('UTC')", '2024-01-02 03:04:05Z'], ["DateTime('UTC')", '-1'],
      ["DateTime('UTC')", '9223372036854775808'], ["DateTime64(3,'UTC')", '1234.5'], ["DateTime64(3,'UTC')", '123'],
      ["Enum8('a' = 1, 'b' = 2)", 'c'], ["Enum8('a' = 1, 'b' = 2)", 'b\tx'], ['Nullable(String)', '\\N\tx'],
    ];
    for (const [type, raw] of cases) {
      const r = expectValue(type, raw, { sameCode: true });
      expect(r.native.ok, `${type} ${raw}`).toBe(false);
    }
  });

  it("keeps ClickHouse's column name for an unaliased placeholder of a scalar type", () => {
    const named: [string, string][] = [
      ['String', "it\\'s"], ['FixedString(3)', 'ab'], ['UInt8', '300'], ['Int64', '-5'], ['UInt64', '18446744073709551615'],
      ['Int128', '-1'], ['UInt256', '7'], ['IntervalDay', '3'], ['Float64', '0.1'], ['Float64', '5'], ['Float64', '-0'],
      ['Float64', '1e21'], ['Float64', '1e-7'], ['Float64', '-inf'], ['Float64', 'NaN'], ['Float32', '0.1'],
      ['Decimal(9,2)', '1.50'], ['Decimal(9,2)', '-0'], ['Decimal(9,2)', '1.129'], ['Bool', 'Y'],
      ["Enum8('a' = 1, 'b' = 2)", 'b'], ["Enum8('a' = 1, 'b' = 2)", '2'],
      ['UUID', '61F0C4045CB311E7907BA6006AD3DBA0'], ['IPv4', '0127.0.0.010'], ['Date', '2024-01-02'], ['Date', '2024-02-30'],
      ['Date', '2200-01-01'], ['Date32', '1900-01-02'], ["DateTime('UTC')", '1700000000'], ["DateTime('UTC')", '17000000000'],
      ["DateTime64(3,'UTC')", '1700000000.5'], ["DateTime64(3,'UTC')", '1700000000123'], ['Nullable(String)', 'x'],
      ['Nullable(String)', '\\N'], ['Nullable(Int32)', '5'], ['Nullable(Float64)', '5'], ['Nullable(Date)', '2024-01-02'],
      ['LowCardinality(String)', 'x'], ['LowCardinality(Nullable(String))', '\\N'], ['VARCHAR(255)', 'x'], ['INT(11)', '7'],
    ];
    for (const [type, raw] of named) expectAgreement(`SELECT {p:${type}}`, { p: raw });
    expectAgreement('SELECT {p:Nullable(UInt8)}, {q:LowCardinality(Nullable(String))}', {});
  });

  it('agrees wherever a placeholder may stand', () => {
    const run = (sql: string, params: Record<string, string>, opts: { sameCode?: boolean } = {}): Compared => {
      const r = expectAgreement(sql, params, opts);
      return r;
    };
    run('CREATE TABLE t (a UInt8, s String, d DateTime(\'UTC\')) ENGINE = Memory', {});
    run('CREATE DATABASE db2', {});
    run('CREATE TABLE db2.`we.ird` (x UInt8) ENGINE = Memory', {});
    run('INSERT INTO db2.`we.ird` VALUES (7)', {});
    // SELECT list, WHERE, IN, LIMIT/OFFSET, table function arguments, array index, tuple element
    run('SELECT number FROM numbers({n:UInt64}) WHERE number IN ({a:UInt8}, {b:UInt8}) OR number = {c:Int64} LIMIT {l:UInt8}', {
      n: '20', a: '2', b: '300', c: '-1', l: '3',
    });
    run('SELECT number FROM numbers(10) WHERE number IN {arr:Array(UInt8)} ORDER BY number LIMIT {l:UInt64} OFFSET {o:UInt64}', {
      arr: '[1,5,7]', l: '2', o: '1',
    });
    run('SELECT [10,20,30][{i:UInt8}] AS x, [10,20,30][{j:Int8}] AS y, (1,2).{k:UInt8} AS z', { i: '2', j: '-1', k: '1' });
    run("SELECT {s:String} AS x, length(x), {s:String} = 'it\\'s'", { s: "it\\'s" });
    run("SELECT {p:DateTime('UTC')} AS d WHERE d > {q:Date} AND d < now() + INTERVAL {n:UInt32} DAY", {
      p: '2024-01-02 03:04:05', q: '2024-01-01', n: '2',
    });
    run('WITH {x:UInt8} AS y SELECT y, arrayMap(v -> v + {x:UInt8}, [1, 2])', { x: '7' });
    // Identifiers: tables, databases, columns, aliases (a dotted value is one name part)
    run('SELECT * FROM {t:Identifier}', { t: 'system.one' }, { sameCode: true });
    run('SELECT * FROM {d:Identifier}.{t:Identifier}', { d: 'db2', t: 'we.ird' });
    run('SELECT * FROM db2.{t:Identifier}', { t: 'we.ird' });
    run('SELECT {c:Identifier} FROM system.one', { c: 'dummy' });
    run('SELECT 1 AS {a:Identifier}', { a: 'x.y`z\\' });
    run('SELECT {c:Identifier}', { c: '' }, { sameCode: true });
    run('DESCRIBE TABLE {t:Identifier}', { t: 't' });
    // Missing parameters
    run('SELECT {c:Identifier}', {}, { sameCode: true });
    run('SELECT {x:UInt8}', {}, { sameCode: true });
    // Settings
    run("SELECT getSetting('max_threads'), getSetting('max_block_size') SETTINGS max_threads = {n:UInt64}, max_block_size = {b:UInt64}", {
      n: '3', b: '1000',
    });
    run("SELECT getSetting('log_comment') SETTINGS max_block_size = 100, log_comment = {c:String}", { c: "a\\'b" });
    run('SET max_threads = {n:UInt64}', { n: '3' });
    // INSERT ... VALUES / FORMAT Values are substituted, FORMAT TSV data is not
    run("INSERT INTO t VALUES ({a:UInt8}, {s:String}, {d:DateTime('UTC')})", { a: '300', s: 'x\\ty', d: '1700000000' });
    run("INSERT INTO t FORMAT Values ({a:UInt8}, {s:String}, {d:DateTime('UTC')})", { a: '3', s: 'v', d: '2024-01-02 03:04:05' });
    run('INSERT INTO t FORMAT TSV\n5\t{s:String}\t2024-01-01 00:00:00\n', { s: 'q' });
    run("ALTER TABLE t UPDATE s = {s:String} WHERE a = {a:UInt8} SETTINGS mutations_sync = {m:UInt8}", { s: "it\\'s", a: '3', m: '1' });
    run('SELECT * FROM t ORDER BY a, s', {});
    // Parameterized views: the body keeps its placeholders
    run('CREATE VIEW {v:Identifier} AS SELECT number FROM numbers(10) WHERE number = {n:UInt8}', { v: 'pv', n: '2' });
    run('SELECT * FROM pv(n={m:UInt8})', { m: '4' });
    // Not placeholders
    run("SELECT '{a:UInt8}', `{a:UInt8}` FROM (SELECT 1 AS `{a:UInt8}`) -- {a:UInt8}", {});
    run("SELECT $$ {a:UInt8} $$, 1 /* {a:UInt8} */", {});
    // Types with parentheses, quotes and commas inside the placeholder
    run("SELECT {b:Map(String, Array(Nullable(UInt8)))} AS m, {e:Enum8('a' = 1, '}' = 2)} AS e, {t:DateTime64(3, 'UTC')} AS t", {
      b: "{'x':[1,NULL]}", e: '}', t: '2024-01-02 03:04:05.5',
    });
  });

  it('agrees on random strings through String and Array(String)', () => {
    // Raw escaped text: quotes, backslashes (valid and broken escapes), control characters, \N, unicode.
    const piece = fc.oneof(
      fc.constantFrom("'", '"', '`', '\\', '\\\\', "\\'", '\\t', '\\n', '\\0', '\\N', '\\x41', '\\xff', '\\x', '\\z', '\t', '\n', '\r', '\0', '\x01', '{', '}', ' '),
      fc.string({ unit: 'grapheme', maxLength: 3 }),
      fc.string({ unit: 'binary', maxLength: 2 }),
    );
    const rawText = fc.array(piece, { maxLength: 12 }).map((parts) => parts.join(''));
    fc.assert(
      fc.property(rawText, (raw) => {
        expectAgreement('SELECT {p:String} AS v, hex(v)', { p: raw }, { format: 'TSV', sameCode: true });
        expectAgreement('SELECT {p:Nullable(String)} AS v', { p: raw }, { format: 'TSV' });
      }),
      { numRuns: 400, seed: 20260706 },
    );
    // Array(String): strings written in quoted form, escaped the ways a client may escape them.
    const element = fc.tuple(fc.array(piece, { maxLength: 6 }).map((p) => p.join('')), fc.constantFrom('backslash', 'doubled', 'raw'));
    const quoted = ([s, how]: [string, string]): string =>
      how === 'backslash'
        ? `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`
        : how === 'doubled'
          ? `'${s.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`
          : `'${s}'`;
    fc.assert(
      fc.property(fc.array(element, { maxLength: 4 }), fc.constantFrom(',', ', ', ' ,'), (elements, sep) => {
        expectAgreement('SELECT {p:Array(String)} AS v, arrayMap(x -> hex(x), v)', { p: `[${elements.map(quoted).join(sep)}]` }, { format: 'TSV' });
      }),
      { numRuns: 300, seed: 20260707 },
    );
  });

  it('agrees on mutated values of every scalar type (seeded)', () => {
    let state = 7;
    const rnd = (n: number): number => {
      state = (state * 1103515245 + 12345) & 0x7fffffff;
      return state % n;
    };
    const alphabet = ['0', '1', '9', '-', ':', ' ', 'T', 'Z', '.', '+', '/', 'a', 'e', 'x', '\\', "'", '\t', 'N', 'n', 'i', 'f', ',', '[', ']', '(', ')', '{', '}', '\\N', 'é'];
    const mutate = (s: string): string => {
      const i = rnd(s.length + 1);
      const c = alphabet[rnd(alphabet.length)]!;
      switch (rnd(4)) {
        case 0: return s.slice(0, i) + c + s.slice(i);
        case 1: return s.slice(0, i) + s.slice(i + 1);
        case 2: return s.slice(0, i) + c + s.slice(i + 1);
        default: return s.slice(0, i);
      }
    };
    const seeds: [string, string[]][] = [
      ['UInt8', ['0', '255', '300', '17']], ['Int64', ['-9223372036854775808', '0', '-5']], ['Int128', ['-1701411834604692317316873037', '1']],
      ['Float64', ['1.5', '-0', 'nan', 'inf', '1e308', '.5', '123456789012345678901234567890', '2.2250738585072014e-308']],
      ['Float32', ['1.5', '3.4028235e38', '1e-45', '0.1', '16777217', '1.00000005960464477539062']],
      ['Decimal(9,2)', ['1.25', '-0.5', '1e2', '123456.789']], ['Bool', ['true', 'false', 'yes', 'off', 'enable']],
      ['Date', ['2024-01-02', '20240102', '2149-06-06']], ['Date32', ['2024-01-02', '1900-01-01']],
      ["DateTime('UTC')", ['2024-01-02 03:04:05', '1700000000', '2024-01-02']], ["DateTime('America/New_York')", ['2024-03-10 02:30:00']],
      ["DateTime64(3,'UTC')", ['2024-01-02 03:04:05.123', '1700000000.123', '-1.5', '12345']],
      ['UUID', ['61f0c404-5cb3-11e7-907b-a6006ad3dba0', '61f0c4045cb311e7907ba6006ad3dba0']], ['IPv4', ['127.0.0.1', '0127.0.0.010']],
      ['IPv6', ['::1', '2001:db8::1', '::ffff:1.2.3.4']], ["Enum8('a' = 1, 'b' = 2, 'it''s' = -3)", ['a', '2', '-3', "it\\'s"]],
      ['FixedString(3)', ['ab', 'a\\0', '\\x41\\x42\\x43']], ['Nullable(Int32)', ['\\N', '5', 'NULL']], ['Nullable(String)', ['\\N', '\\Nx']],
      ['Array(Nullable(Int32))', ['[1,NULL,3]', '[]']], ['Tuple(String, UInt8)', ["('a',1)"]], ['Map(String, Array(UInt8))', ["{'a':[1,2],'b':[]}"]],
      ['JSON', ['{"a":1}']], ['IntervalDay', ['5', '-5']],
    ];
    const refused: string[] = [];
    for (const [type, starts] of seeds) {
      const seen = new Set<string>();
      for (let k = 0; k < 40; k++) {
        let s = starts[rnd(starts.length)]!;
        for (let j = rnd(3); j > 0; j--) s = mutate(s);
        if (seen.has(s)) continue;
        seen.add(s);
        const r = compare(valueQuery(type), { p: s });
        // Known and deliberate: a date-time whose digit positions hold other characters is refused
        // here, where ClickHouse computes some date from the character codes.
        if (r.native.ok && !r.ours.ok && type.startsWith('DateTime') && r.ours.code === 457) {
          refused.push(`${type} ${JSON.stringify(s)}`);
          continue;
        }
        expectAgreement(valueQuery(type), { p: s });
      }
    }
    expect(refused.length).toBeLessThan(10);
  });

  it('runs parameterized queries in parallel on separate connections', async () => {
    const sessions = Array.from({ length: 8 }, () => new Session(dir));
    try {
      const sql = 'SELECT sleep(1), {x:String}';
      await Promise.all(sessions.map((s) => s.queryAsync('SELECT 1')));
      let t = performance.now();
      const substituted = await Promise.all(
        sessions.map((s, i) => addon.QueryAsyncConnection(s.connection, substituteParams(sql, { x: `v${i}` }), 'TSV')),
      );
      const ourMs = performance.now() - t;
      t = performance.now();
      const bound = await Promise.all(sessions.map((s, i) => s.queryBindAsync(sql, { x: `v${i}` }, { format: 'TSV' })));
      const nativeMs = performance.now() - t;
      console.log(
        `8 × SELECT sleep(1), {x:String}: substituted ${ourMs.toFixed(0)} ms, chdb native binding ${nativeMs.toFixed(0)} ms (UV_THREADPOOL_SIZE=${process.env.UV_THREADPOOL_SIZE ?? 'default 4'})`,
      );
      expect(substituted.map((r) => Buffer.from(r.bytes).toString())).toEqual(bound.map((r) => r.text()));
      // chdb runs bound queries one at a time process-wide (~8 s); substituted ones overlap,
      // as far as libuv's thread pool lets them (4 threads by default: ~2 s).
      expect(nativeMs).toBeGreaterThan(7000);
      expect(ourMs).toBeLessThan(nativeMs / 2);
    } finally {
      for (const s of sessions) s.close();
    }
  }, 30_000);
});
