import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The analytics cookbook: clickhouse/cookbook/NN_slug.sql, each one read-only query
 * whose leading `-- ` comment is the question. docs/analytics-cookbook.md shows the
 * same text (checked by cookbook.test.ts).
 */
export const COOKBOOK_DIR = path.resolve(import.meta.dirname, '../../../clickhouse/cookbook');
const FILE_NAME = /^(\d{2})_([a-z0-9_]+)\.sql$/;

export interface Recipe {
  number: string;
  slug: string;
  file: string;
  question: string;
  sql: string;
}

export function loadCookbook(dir = COOKBOOK_DIR): Recipe[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort()
    .map((file) => {
      const m = FILE_NAME.exec(file);
      if (!m) throw new Error(`${path.join(dir, file)}: cookbook files are named NN_lower_snake_slug.sql`);
      const sql = readFileSync(path.join(dir, file), 'utf8');
      const first = sql.split('\n', 1)[0]!;
      if (!first.startsWith('-- ')) throw new Error(`${file}: the first line must be the question as a '-- ' comment`);
      return { number: m[1]!, slug: m[2]!, file, question: first.slice(3).trim(), sql };
    });
}

/**
 * Points a query at other databases: `analytics.x` → `<to>.x` for each mapped name,
 * also inside strings (joinGet('debezium.users_join', …) names its table in one).
 * For tests that run the cookbook against scratch copies of the product tables.
 */
export function rewriteDatabases(sql: string, map: Readonly<Record<string, string>>): string {
  const names = Object.keys(map);
  if (names.length === 0) return sql;
  const re = new RegExp(`\\b(${names.join('|')})\\.(?=[A-Za-z_])`, 'g');
  return sql.replace(re, (_, db: string) => `${map[db]}.`);
}
