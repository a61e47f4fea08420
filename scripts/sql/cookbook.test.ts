import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { loadCookbook, rewriteDatabases } from '@cdc/clickhouse';
import { formatResult, maskLiterals, QueryRejectedError, readOnlySettings, validateLimits, validateQuery } from '@cdc/clickhouse';

const COOKBOOK_DOC = path.resolve(import.meta.dirname, '../../docs/analytics-cookbook.md');

describe('analytics cookbook', () => {
  const recipes = loadCookbook();
  const doc = readFileSync(COOKBOOK_DOC, 'utf8');
  const docBlocks = [...doc.matchAll(/```sql\n([\s\S]*?)```/g)].map((m) => m[1]!);

  it('has at least 12 questions, numbered 01.. without gaps, each with its question comment', () => {
    expect(recipes.length).toBeGreaterThanOrEqual(12);
    expect(recipes.map((r) => Number(r.number))).toEqual(recipes.map((_, i) => i + 1));
    for (const r of recipes) expect(r.question.length, r.file).toBeGreaterThan(10);
  });

  it('the doc shows exactly the SQL of the files, in order, and nothing else', () => {
    expect(docBlocks).toEqual(recipes.map((r) => r.sql.replace(/\n*$/, '\n')));
    for (const r of recipes) expect(doc).toContain(`### ${r.number}. ${r.question}`);
  });

  it('every recipe is one statement the read-only runner accepts', () => {
    for (const r of recipes) expect(() => validateQuery(r.sql), r.file).not.toThrow();
  });
});

describe('rewriteDatabases', () => {
  it('rewrites qualified names, also in joinGet strings, and leaves other words alone', () => {
    const sql = "SELECT joinGet('debezium.users_join', 'country', user_id), default_x FROM default.users FINAL, analytics.t";
    expect(rewriteDatabases(sql, { default: 's', debezium: 's', analytics: 's' })).toBe(
      "SELECT joinGet('s.users_join', 'country', user_id), default_x FROM s.users FINAL, s.t",
    );
  });
});

describe('validateQuery', () => {
  it('accepts one statement and drops a trailing semicolon', () => {
    expect(validateQuery('  SELECT 1;  ')).toBe('SELECT 1');
    expect(validateQuery("SELECT 'a;b' -- x;y\n")).toBe("SELECT 'a;b' -- x;y");
  });
  it.each([
    ['', /empty/],
    ['-- only a comment', /empty/],
    ['SELECT 1; SELECT 2', /one statement per query, got 2/],
    ["SELECT 1 INTO OUTFILE '/tmp/x'", /INTO OUTFILE/],
    ['SELECT 1 FORMAT CSV', /FORMAT clause/],
    ['SELECT 1 FORMAT JSON SETTINGS max_threads = 1', /FORMAT clause/],
  ])('refuses %j', (sql, message) => {
    expect(() => validateQuery(sql)).toThrow(QueryRejectedError);
    expect(() => validateQuery(sql)).toThrow(message);
  });
  it('is not fooled by words inside strings, identifiers or comments', () => {
    expect(validateQuery("SELECT 'FORMAT CSV' AS format, `INTO OUTFILE` FROM t /* FORMAT x */")).toContain('SELECT');
    expect(maskLiterals("a 'b' c")).toBe('a     c');
  });
});

describe('limits and settings', () => {
  it('defaults, bounds, and the settings sent with every query', () => {
    expect(validateLimits({})).toEqual({ maxRows: 1000, timeoutS: 30 });
    expect(() => validateLimits({ maxRows: 0 })).toThrow(/max rows/);
    expect(() => validateLimits({ maxRows: 1.5 })).toThrow(/max rows/);
    expect(() => validateLimits({ timeoutS: 0 })).toThrow(/timeout/);
    expect(readOnlySettings({ maxRows: 10, timeoutS: 5 })).toEqual({
      max_execution_time: 5,
      timeout_overflow_mode: 'throw',
      max_result_rows: '11',
      result_overflow_mode: 'break',
      readonly: '1',
    });
  });
});

describe('formatResult', () => {
  const result = {
    columns: [
      { name: 'country', type: 'LowCardinality(Nullable(String))' },
      { name: 'n', type: 'UInt64' },
      { name: 'tags', type: 'Array(String)' },
    ],
    rows: [
      ['DE', '12', ['a', 'b']],
      [null, '3', []],
    ],
    truncated: false,
    elapsedMs: 1,
  };
  it('table: aligned, numbers right-aligned, NULL shown', () => {
    expect(formatResult(result, 'table')).toBe(
      ['country   n  tags', '-------  --  ---------', 'DE       12  ["a","b"]', 'NULL      3  []', ''].join('\n'),
    );
  });
  it('json: one object per row', () => {
    expect(JSON.parse(formatResult(result, 'json'))).toEqual([
      { country: 'DE', n: '12', tags: ['a', 'b'] },
      { country: null, n: '3', tags: [] },
    ]);
  });
  it('csv: header, quoting, NULL as empty', () => {
    expect(formatResult(result, 'csv')).toBe('country,n,tags\nDE,12,"[""a"",""b""]"\n,3,[]\n');
  });
});
