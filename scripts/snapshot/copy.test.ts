import { describe, expect, it } from 'vitest';
import { pgSourceOf, rangeInsert, rangesOf, TELEMETRY_EVENTS } from './copy.js';

describe('rangesOf', () => {
  it('covers every page from 0 with adjacent ranges, the last one open-ended', () => {
    expect(rangesOf(10, 4)).toEqual([
      { lo: 0, hi: 4 },
      { lo: 4, hi: 8 },
      { lo: 8, hi: Number.POSITIVE_INFINITY },
    ]);
  });

  it('gives one open range for an empty table: rows that appear meanwhile are still read', () => {
    expect(rangesOf(0, 1000)).toEqual([{ lo: 0, hi: Number.POSITIVE_INFINITY }]);
    expect(rangesOf(3, 1000)).toEqual([{ lo: 0, hi: Number.POSITIVE_INFINITY }]);
  });

  it('refuses a size that is not a positive integer', () => {
    expect(() => rangesOf(10, 0)).toThrow(/positive integer/);
    expect(() => rangesOf(10, 1.5)).toThrow(/positive integer/);
  });
});

describe('rangeInsert', () => {
  it('reads one range of pages through postgresql(query(…)), quoting every credential', () => {
    const source = pgSourceOf("postgresql://o'brien:p%27a%5Css@db.example:6543/tele%20metry");
    expect(source).toEqual({ hostPort: 'db.example:6543', database: 'tele metry', user: "o'brien", password: "p'a\\ss" });
    const sql = rangeInsert(TELEMETRY_EVENTS, source, { lo: 100, hi: 200 });
    expect(sql).toMatch(
      /^INSERT INTO default\.telemetry_events \(id, .*, _lsn, _is_deleted, _source_ts\) SELECT id, .*, toUInt64\(0\), toUInt8\(0\), now64\(3\) FROM postgresql\('db\.example:6543', 'tele metry', query\('/,
    );
    expect(sql).toContain("FROM public.telemetry_events WHERE ctid >= \\'(100,0)\\'::tid AND ctid < \\'(200,0)\\'::tid'), 'o\\'brien', 'p\\'a\\\\ss')");
  });

  it('leaves the last range without an upper bound', () => {
    const sql = rangeInsert(TELEMETRY_EVENTS, pgSourceOf('postgresql://u:p@host/db'), { lo: 8, hi: Number.POSITIVE_INFINITY });
    expect(sql).toContain("WHERE ctid >= \\'(8,0)\\'::tid'),");
    expect(sql).not.toContain('ctid <');
  });

  it('defaults the port to 5432', () => {
    expect(pgSourceOf('postgresql://u:p@host/db').hostPort).toBe('host:5432');
  });
});
