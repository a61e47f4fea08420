import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import { splitStatements } from '@cdc/clickhouse';

export { splitStatements };

/**
 * The ClickHouse schema as numbered migrations: clickhouse/NNNN_name.sql, applied in
 * number order, each once, recorded in default.schema_migrations with a checksum.
 * The same runner works against chDB (apps/chdb-server) and a ClickHouse server: it
 * speaks only the HTTP interface through @clickhouse/client.
 *
 * ClickHouse has no transactional DDL, so a migration that fails half-way is not
 * recorded and runs again from its first statement: every statement is written to
 * be repeatable (IF NOT EXISTS). An applied migration whose file has changed since is
 * an error, not a silent skip: write a new migration instead.
 */
export const MIGRATIONS_DIR = path.resolve(import.meta.dirname, '../../clickhouse');
const FILE_NAME = /^(\d{4})_([a-z0-9_]+)\.sql$/;
const DEFAULT_LEDGER = 'default.schema_migrations';

export interface Migration {
  version: number;
  name: string;
  file: string;
  sql: string;
  checksum: string;
}

export function loadMigrations(dir = MIGRATIONS_DIR): Migration[] {
  const migrations = readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .map((f) => {
      const m = FILE_NAME.exec(f);
      if (!m) throw new Error(`${path.join(dir, f)}: migration files are named NNNN_lower_snake_name.sql`);
      const sql = readFileSync(path.join(dir, f), 'utf8');
      return {
        version: Number(m[1]),
        name: m[2]!,
        file: f,
        sql,
        checksum: createHash('sha256').update(sql).digest('hex'),
      };
    })
    .sort((a, b) => a.version - b.version);
  for (let i = 1; i < migrations.length; i++) {
    if (migrations[i]!.version === migrations[i - 1]!.version) {
      throw new Error(`two migrations numbered ${migrations[i]!.version}: ${migrations[i - 1]!.file}, ${migrations[i]!.file}`);
    }
  }
  return migrations;
}

/** Fills ${NAME} placeholders (environment-specific settings such as the broker list). */
export function substitute(sql: string, values: Record<string, string>, file: string): string {
  return sql.replace(/\$\{([A-Z0-9_]+)\}/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`${file}: no value for \${${name}}`);
    if (value.includes("'")) throw new Error(`${file}: the value of \${${name}} must not contain a quote`);
    return value;
  });
}

export interface MigrateResult {
  applied: Migration[];
  alreadyApplied: number;
}

export async function migrate(
  client: ClickHouseClient,
  values: Record<string, string>,
  options: { dir?: string; ledger?: string; log?: (line: string) => void } = {},
): Promise<MigrateResult> {
  const log = options.log ?? (() => {});
  const LEDGER = options.ledger ?? DEFAULT_LEDGER;
  const migrations = loadMigrations(options.dir);
  await client.command({
    query: `CREATE TABLE IF NOT EXISTS ${LEDGER} (
        version UInt32, name String, checksum String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3))
      ENGINE = MergeTree ORDER BY version`,
  });
  const rs = await client.query({ query: `SELECT version, name, checksum FROM ${LEDGER}`, format: 'JSONEachRow' });
  const done = new Map((await rs.json<{ version: number; name: string; checksum: string }>()).map((r) => [Number(r.version), r]));

  for (const [version, row] of done) {
    const m = migrations.find((x) => x.version === version);
    if (!m) throw new Error(`ClickHouse has migration ${version} (${row.name}) applied, but no such file is in ${options.dir ?? 'clickhouse/'}`);
    if (m.checksum !== row.checksum) {
      throw new Error(`clickhouse/${m.file} was changed after it was applied; add a new migration instead`);
    }
  }

  const applied: Migration[] = [];
  for (const m of migrations) {
    if (done.has(m.version)) continue;
    const t0 = Date.now();
    const statements = splitStatements(substitute(m.sql, values, m.file));
    for (const [n, statement] of statements.entries()) {
      try {
        await client.command({ query: statement });
      } catch (err) {
        throw new Error(`clickhouse/${m.file}, statement ${n + 1} of ${statements.length}: ${(err as Error).message}`, {
          cause: err,
        });
      }
    }
    await client.insert({
      table: LEDGER,
      values: [{ version: m.version, name: m.name, checksum: m.checksum }],
      format: 'JSONEachRow',
    });
    applied.push(m);
    log(`✔ applied  clickhouse/${m.file} (${statements.length} statements, ${Date.now() - t0} ms)`);
  }
  return { applied, alreadyApplied: done.size };
}
