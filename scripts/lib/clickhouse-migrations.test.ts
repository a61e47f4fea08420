import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadMigrations, splitStatements, substitute } from './clickhouse-migrations.js';

describe('splitStatements', () => {
  it('splits at semicolons outside quotes and comments, keeping comments with their statement', () => {
    const sql = `-- leading; comment
CREATE TABLE a (s String DEFAULT 'x;y') ENGINE = Memory;
/* block; comment */ SELECT "we;ird", \`b;c\` FROM a;
SELECT 'it\\'s; fine';
-- trailing comment only`;
    expect(splitStatements(sql)).toEqual([
      "-- leading; comment\nCREATE TABLE a (s String DEFAULT 'x;y') ENGINE = Memory",
      '/* block; comment */ SELECT "we;ird", `b;c` FROM a',
      "SELECT 'it\\'s; fine'",
    ]);
  });

  it('every shipped migration splits into statements that each start with SQL after their comments', () => {
    for (const m of loadMigrations()) {
      const statements = splitStatements(m.sql);
      expect(statements.length, m.file).toBeGreaterThan(0);
      for (const s of statements) {
        expect(s.replace(/--[^\n]*\n/g, '').trim(), m.file).toMatch(/^(CREATE|ALTER|DROP|INSERT|SYSTEM|WITH|SELECT|RENAME|EXCHANGE)\b/);
      }
    }
  });
});

describe('substitute', () => {
  it('fills ${NAME} placeholders and refuses unknown ones or values with quotes', () => {
    expect(substitute("kafka_broker_list = '${KAFKA_BROKER_LIST}'", { KAFKA_BROKER_LIST: 'a:1,b:2' }, 'f.sql')).toBe(
      "kafka_broker_list = 'a:1,b:2'",
    );
    expect(() => substitute('${NOPE}', {}, 'f.sql')).toThrow(/f\.sql: no value for \$\{NOPE\}/);
    expect(() => substitute("'${X}'", { X: "a'b" }, 'f.sql')).toThrow(/must not contain a quote/);
  });
});

describe('loadMigrations', () => {
  const dirWith = (files: Record<string, string>) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ch-migrations-'));
    for (const [name, sql] of Object.entries(files)) writeFileSync(path.join(dir, name), sql);
    return dir;
  };

  it('orders by number and checksums the text', () => {
    const ms = loadMigrations(dirWith({ '0010_b.sql': 'SELECT 2', '0002_a.sql': 'SELECT 1' }));
    expect(ms.map((m) => [m.version, m.name])).toEqual([
      [2, 'a'],
      [10, 'b'],
    ]);
    expect(ms[0]!.checksum).toMatch(/^[0-9a-f]{64}$/);
    expect(ms[0]!.checksum).not.toBe(ms[1]!.checksum);
  });

  it('rejects badly named files and duplicate numbers', () => {
    expect(() => loadMigrations(dirWith({ '1_a.sql': 'SELECT 1' }))).toThrow(/NNNN_lower_snake_name/);
    expect(() => loadMigrations(dirWith({ '0001_a.sql': 'SELECT 1', '0001_b.sql': 'SELECT 2' }))).toThrow(/two migrations numbered 1/);
  });

  it('the shipped migrations are numbered 1, 2, 3, … without gaps', () => {
    const versions = loadMigrations().map((m) => m.version);
    expect(versions).toEqual(versions.map((_, i) => i + 1));
  });
});
