import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '@clickhouse/client';
import { loadDotEnv, loadEndpoints } from '@cdc/config';
import { loadMigrations, migrate } from './clickhouse-migrations.js';

loadDotEnv();
const env = loadEndpoints();
const ch = createClient({ url: env.CLICKHOUSE_URL, username: env.CLICKHOUSE_USER, password: env.CLICKHOUSE_PASSWORD });
// A scratch database of its own, ledger included: the product's ledger is never touched.
const DB = `migtest_${randomBytes(4).toString('hex')}`;
const LEDGER = `${DB}.schema_migrations`;
const dir = mkdtempSync(path.join(tmpdir(), 'ch-migrate-'));
const write = (name: string, sql: string) => writeFileSync(path.join(dir, name), sql);

async function rows<T>(query: string): Promise<T[]> {
  return (await ch.query({ query, format: 'JSONEachRow' })).json<T>();
}

beforeAll(async () => {
  await ch.command({ query: `CREATE DATABASE ${DB}` });
});

afterAll(async () => {
  await ch.command({ query: `DROP DATABASE IF EXISTS ${DB} SYNC` });
  await ch.close();
});

describe('ClickHouse migration runner against the stack\'s ClickHouse', () => {
  it('applies pending migrations in order, once, and records them', async () => {
    write('0001_table.sql', `CREATE TABLE IF NOT EXISTS ${DB}.t (id UInt32, note String) ENGINE = MergeTree ORDER BY id;`);
    write('0002_rows.sql', `-- two statements\nINSERT INTO ${DB}.t VALUES (1, 'a;b');\nINSERT INTO ${DB}.t VALUES (2, '\${NOTE}');`);
    const first = await migrate(ch, { NOTE: 'from config' }, { dir, ledger: LEDGER });
    expect(first.applied.map((m) => m.version)).toEqual([1, 2]);
    expect(await rows(`SELECT id, note FROM ${DB}.t ORDER BY id`)).toEqual([
      { id: 1, note: 'a;b' },
      { id: 2, note: 'from config' },
    ]);

    const again = await migrate(ch, { NOTE: 'from config' }, { dir, ledger: LEDGER });
    expect(again).toEqual({ applied: [], alreadyApplied: 2 });
    expect((await rows<{ n: string | number }>(`SELECT count() AS n FROM ${DB}.t`)).map((r) => Number(r.n))).toEqual([2]);
  });

  it('a failing statement names its file and statement, is not recorded, and runs again once fixed', async () => {
    write('0003_broken.sql', `ALTER TABLE ${DB}.t ADD COLUMN IF NOT EXISTS extra UInt8;\nSELECT no_such_function(1);`);
    await expect(migrate(ch, { NOTE: 'x' }, { dir, ledger: LEDGER })).rejects.toThrow(/0003_broken\.sql, statement 2 of 2: .*no_such_function/s);
    expect(await rows(`SELECT max(version) AS v FROM ${LEDGER}`)).toEqual([{ v: 2 }]);

    write('0003_broken.sql', `ALTER TABLE ${DB}.t ADD COLUMN IF NOT EXISTS extra UInt8;\nSELECT 1;`);
    const fixed = await migrate(ch, { NOTE: 'x' }, { dir, ledger: LEDGER });
    expect(fixed.applied.map((m) => m.file)).toEqual(['0003_broken.sql']);
  });

  it('refuses to run when an applied migration was edited', async () => {
    write('0001_table.sql', `CREATE TABLE IF NOT EXISTS ${DB}.t (id UInt64) ENGINE = MergeTree ORDER BY id;`);
    await expect(migrate(ch, { NOTE: 'x' }, { dir, ledger: LEDGER })).rejects.toThrow(/0001_table\.sql was changed after it was applied/);
  });

  it('the product schema is applied: every clickhouse/*.sql recorded with its checksum', async () => {
    const recorded = await rows<{ version: number; checksum: string }>('SELECT version, checksum FROM default.schema_migrations ORDER BY version');
    expect(recorded).toEqual(loadMigrations().map((m) => ({ version: m.version, checksum: m.checksum })));
    const objects = await rows<{ name: string; engine: string }>(
      "SELECT name, engine FROM system.tables WHERE database = 'debezium' ORDER BY name",
    );
    const byName = Object.fromEntries(objects.map((o) => [o.name, o.engine]));
    expect(byName).toMatchObject({
      users_kafka: 'Kafka',
      users_join: 'Join',
      users_mv: 'MaterializedView',
      telemetry_events_kafka: 'Kafka',
      telemetry_events_merge: 'ReplacingMergeTree',
      telemetry_events_mv: 'MaterializedView',
      kafka_errors: 'MergeTree',
      freshness: 'View',
    });
  });
});
