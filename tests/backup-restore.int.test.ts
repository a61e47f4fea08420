import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import type { ClickHouseClient } from '@clickhouse/client';
import { REPO_ROOT } from '../scripts/stack/config.js';
import { TELEMETRY_EVENTS, USERS, waitForEquality, describeDiff, isEqual } from '../scripts/lib/cdc-compare.js';
import type { Manifest } from '../scripts/ops/backup-lib.js';
import { clickhouse, env, pools } from './support/cdc.js';

/**
 * npm run backup / npm run restore on the shared stack, restoring only into scratch
 * targets: both PostgreSQL databases into new databases on their own clusters, the
 * ClickHouse tables that hold data into scratch databases. Every restored table is
 * compared with the live one row for row (an order-independent hash over every row's
 * full text), and each comparison is shown to fail on a restored copy with one row
 * removed. Nothing live is changed except three marker users and three marker events,
 * written first (so no table is empty) and deleted at the end; every scratch object is
 * dropped in afterAll, whether the tests passed or not.
 *
 * The live side keeps moving (heartbeats, other writers), so each table is compared only
 * if its fingerprint was the same just before and just after the backup; the backup is
 * retried (three times) until the pipeline's tables held still.
 */
const execFileP = promisify(execFile);
const TAG = `bkt${randomBytes(4).toString('hex')}`;
const CH_PREFIX = `${TAG}_`;
const scratchPg = { crm: `${TAG}_crm`, telemetry: `${TAG}_telemetry` } as const;
const workDir = mkdtempSync(path.join(tmpdir(), 'backup-restore-'));

let db: { crm: pg.Pool; telemetry: pg.Pool };
let ch: ClickHouseClient;
let backupDir = '';
let manifest: Manifest;
/** Live fingerprints taken around the successful backup: table → fingerprint (both sides equal). */
const stablePg: Record<'crm' | 'telemetry', Map<string, string>> = { crm: new Map(), telemetry: new Map() };
const stableCh = new Map<string, string>();
const markerUsers: number[] = [];
const markerEvents: string[] = [];

async function cli(script: 'backup' | 'restore', args: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await execFileP(process.execPath, ['--import', 'tsx', `scripts/ops/${script}.ts`, ...args], {
      cwd: REPO_ROOT,
      env: process.env,
      maxBuffer: 16 * 1024 * 1024,
      timeout: 580_000,
    });
    return { code: 0, out: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

const q = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** count and an order-independent hash of every row's text: equal ⇔ same rows (up to md5 collisions). */
async function pgFingerprint(client: Pick<pg.Pool, 'query'>, table: string): Promise<string> {
  const [schema, name] = table.split('.') as [string, string];
  const r = await client.query<{ n: string; h: string | null }>(
    `SELECT count(*)::text AS n, md5(string_agg(h, '' ORDER BY h)) AS h
       FROM (SELECT md5(t::text) AS h FROM ${q(schema)}.${q(name)} t) s`,
  );
  return `${r.rows[0]!.n}:${r.rows[0]!.h ?? '-'}`;
}

const REPLACING = /^Replacing/;

const WRITE_TIME_COLUMNS = '_ingested_at, _processed_at, received_at';

async function chFingerprint(database: string, table: string, engine: string): Promise<string> {
  // FINAL for ReplacingMergeTree: background merges may collapse versions on either side.
  // The write-time columns are left out: a redelivered change is a second copy with the
  // same version and a later write time, and which copy FINAL keeps depends on part
  // order, which a restore does not preserve.
  const rs = await ch.query({
    query: `SELECT count() AS n, toString(sum(cityHash64(toString(tuple(* EXCEPT (${WRITE_TIME_COLUMNS})))))) AS h FROM \`${database}\`.\`${table}\` ${REPLACING.test(engine) ? 'FINAL' : ''}`,
    format: 'JSONEachRow',
    clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
  });
  const [row] = await rs.json<{ n: number; h: string }>();
  return `${row!.n}:${row!.h}`;
}

async function pgTables(pool: pg.Pool): Promise<string[]> {
  const r = await pool.query<{ t: string }>(
    `SELECT n.nspname || '.' || c.relname AS t FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%' ORDER BY 1`,
  );
  return r.rows.map((x) => x.t);
}

const CH_DATABASES = ['default', 'debezium', 'analytics'];

async function chDataTables(): Promise<{ database: string; name: string; engine: string }[]> {
  const rs = await ch.query({
    query: `SELECT database, name, engine FROM system.tables
             WHERE database IN ('default', 'debezium', 'analytics') AND (engine LIKE '%MergeTree' OR engine = 'Join') ORDER BY database, name`,
    format: 'JSONEachRow',
  });
  return rs.json();
}

async function snapshotLive(): Promise<{ pg: Record<'crm' | 'telemetry', Map<string, string>>; ch: Map<string, string> }> {
  const out = { pg: { crm: new Map<string, string>(), telemetry: new Map<string, string>() }, ch: new Map<string, string>() };
  for (const source of ['crm', 'telemetry'] as const) {
    for (const t of await pgTables(db[source])) out.pg[source].set(t, await pgFingerprint(db[source], t));
  }
  for (const t of await chDataTables()) out.ch.set(`${t.database}.${t.name}`, await chFingerprint(t.database, t.name, t.engine));
  return out;
}

/** Pipeline tables must hold still across the backup for the comparison to mean anything. */
const MUST_BE_STABLE_PG = { crm: ['public.users'], telemetry: ['public.telemetry_events'] };
const MUST_BE_STABLE_CH = ['default.users', 'default.telemetry_events'];

beforeAll(async () => {
  db = pools();
  ch = clickhouse();
  // Marker rows, so that no compared table is empty: text PostgreSQL and ClickHouse must
  // both keep byte for byte, NULLs, microsecond timestamps.
  for (let i = 0; i < 3; i++) {
    const u = await db.crm.query<{ id: number }>(
      `INSERT INTO users (name, email, age, country, phone) VALUES ($1, $2, $3, $4, NULL) RETURNING id`,
      [`${TAG} Ярослава «Backup» ${i} 🦾\ttab`, `${TAG}.${i}+restore@example.com`, i === 1 ? null : 30 + i, i === 2 ? null : 'Україна'],
    );
    markerUsers.push(u.rows[0]!.id);
    const e = await db.telemetry.query<{ event_uuid: string }>(
      `INSERT INTO telemetry_events (user_id, prosthesis_type, muscle_group, signal_frequency, signal_duration, signal_amplitude, event_timestamp, request_id)
       VALUES ($1, 'backup_probe', 'forearm_flexors', 1000, 250, $2, '2026-12-04T12:00:00.123456Z', $3) RETURNING event_uuid`,
      [u.rows[0]!.id, 0.1 + i / 3, `${TAG}-${i}`],
    );
    markerEvents.push(e.rows[0]!.event_uuid);
  }
  // The markers reach ClickHouse before the backup, so the live side is quiet while it runs.
  for (const [spec, pool] of [[USERS, db.crm], [TELEMETRY_EVENTS, db.telemetry]] as const) {
    const diff = await waitForEquality(spec, pool, ch, 120_000);
    if (!isEqual(diff)) throw new Error(`the shared stack's ClickHouse does not match PostgreSQL before the backup:\n${describeDiff(diff)}`);
  }

  for (let attempt = 1; ; attempt++) {
    const before = await snapshotLive();
    const out = path.join(workDir, `try${attempt}`);
    const { code, out: log } = await cli('backup', ['--out', out, '--clickhouse-databases', CH_DATABASES.join(',')]);
    if (code !== 0) throw new Error(`npm run backup exited ${code}:\n${log}`);
    const after = await snapshotLive();
    const moved = [
      ...(['crm', 'telemetry'] as const).flatMap((s) => MUST_BE_STABLE_PG[s].filter((t) => before.pg[s].get(t) !== after.pg[s].get(t))),
      ...MUST_BE_STABLE_CH.filter((t) => before.ch.get(t) !== after.ch.get(t)),
    ];
    if (moved.length === 0 || attempt === 3) {
      if (moved.length) throw new Error(`the live tables kept changing during three backups: ${moved.join(', ')}`);
      backupDir = path.join(out, readdirSync(out).find((d) => !d.endsWith('.partial'))!);
      for (const s of ['crm', 'telemetry'] as const) {
        for (const [t, f] of before.pg[s]) if (after.pg[s].get(t) === f) stablePg[s].set(t, f);
      }
      for (const [t, f] of before.ch) if (after.ch.get(t) === f) stableCh.set(t, f);
      console.log(`[backup-restore] backup ${backupDir} (attempt ${attempt}):\n${log.trim()}`);
      break;
    }
  }
  manifest = JSON.parse(readFileSync(path.join(backupDir, 'manifest.json'), 'utf8')) as Manifest;
}, 900_000);

afterAll(async () => {
  const problems: string[] = [];
  const attempt = async (what: string, fn: () => Promise<unknown>) => {
    try {
      await fn();
    } catch (err) {
      problems.push(`${what}: ${(err as Error).message}`);
    }
  };
  for (const source of ['crm', 'telemetry'] as const) {
    await attempt(`drop ${scratchPg[source]}`, async () => {
      const admin = new pg.Client({ connectionString: source === 'crm' ? env.CRM_DATABASE_URL : env.TELEMETRY_DATABASE_URL });
      await admin.connect();
      try {
        await admin.query(`DROP DATABASE IF EXISTS ${q(scratchPg[source])} WITH (FORCE)`);
      } finally {
        await admin.end();
      }
    });
  }
  for (const d of CH_DATABASES) await attempt(`drop ${CH_PREFIX}${d}`, () => ch.command({ query: `DROP DATABASE IF EXISTS \`${CH_PREFIX}${d}\` SYNC` }));
  if (markerUsers.length) await attempt('delete marker users', () => db.crm.query('DELETE FROM users WHERE id = ANY($1)', [markerUsers]));
  if (markerEvents.length) await attempt('delete marker events', () => db.telemetry.query('DELETE FROM telemetry_events WHERE event_uuid = ANY($1::uuid[])', [markerEvents]));
  rmSync(workDir, { recursive: true, force: true });
  await db?.crm.end();
  await db?.telemetry.end();
  await ch?.close();
  if (problems.length) throw new Error(`clean-up failed:\n${problems.join('\n')}`);
}, 300_000);

describe('npm run backup / npm run restore (scratch targets on the shared stack)', () => {
  it('writes a complete backup with a manifest that says where the stream was', () => {
    expect(existsSync(path.join(backupDir, 'manifest.json'))).toBe(true);
    expect(manifest.postgres.map((p) => p.source).sort()).toEqual(['crm', 'telemetry']);
    for (const p of manifest.postgres) {
      expect(p.snapshotLsn).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);
      expect(p.tables.find((t) => t.table === (p.source === 'crm' ? 'public.users' : 'public.telemetry_events'))!.rows).toBeGreaterThanOrEqual(3);
    }
    const names = manifest.clickhouse!.tables.map((t) => `${t.database}.${t.name}`);
    expect(names).toEqual(expect.arrayContaining(['default.users', 'default.telemetry_events', 'debezium.users_kafka', 'debezium.users_parse_mv']));
    expect(manifest.clickhouse!.migrations.length).toBeGreaterThan(0);
    // The ClickHouse consumer groups' offsets: what a restore rewinds them to.
    const groups = manifest.kafka!.groups.map((g) => g.group);
    expect(groups).toEqual(expect.arrayContaining(['clickhouse-crm-users', 'clickhouse-telemetry-events']));
    expect(manifest.connect!.connectors.map((c) => c.name)).toEqual(expect.arrayContaining(['crm-connector', 'telemetry-connector']));
  });

  it('verify passes on the backup and fails on a damaged copy', async () => {
    expect((await cli('restore', ['verify', backupDir])).code).toBe(0);
    const damaged = path.join(workDir, 'damaged');
    cpSync(backupDir, damaged, { recursive: true });
    const file = path.join(damaged, 'postgres', 'crm.dump');
    const bytes = readFileSync(file);
    const at = bytes.length >> 1;
    bytes.writeUInt8(bytes.readUInt8(at) ^ 0xff, at);
    writeFileSync(file, bytes);
    const r = await cli('restore', ['verify', damaged]);
    expect(r.code).toBe(1);
    expect(r.out).toContain('postgres/crm.dump: sha256 differs from the manifest');
  });

  for (const source of ['crm', 'telemetry'] as const) {
    it(`${source}: the dump restored into a new database equals the live database, row for row`, async () => {
      const r = await cli('restore', ['postgres', backupDir, source, '--into', scratchPg[source]]);
      expect(r.code, r.out).toBe(0);
      const restored = new pg.Pool({ connectionString: (source === 'crm' ? env.CRM_DATABASE_URL : env.TELEMETRY_DATABASE_URL).replace(/\/[^/?]+(\?|$)/, `/${scratchPg[source]}$1`), max: 1 });
      try {
        const entry = manifest.postgres.find((p) => p.source === source)!;
        expect((await pgTables(restored)).sort()).toEqual(entry.tables.map((t) => t.table).sort());
        let compared = 0;
        for (const [table, live] of stablePg[source]) {
          expect(await pgFingerprint(restored, table), `${source} ${table}`).toBe(live);
          compared++;
        }
        for (const t of MUST_BE_STABLE_PG[source]) expect(stablePg[source].has(t)).toBe(true);
        // The comparison can fail: one row less in the copy is seen.
        const main = MUST_BE_STABLE_PG[source][0]!;
        await restored.query(`DELETE FROM ${main} WHERE ctid = (SELECT ctid FROM ${main} LIMIT 1)`);
        expect(await pgFingerprint(restored, main)).not.toBe(stablePg[source].get(main));
        console.log(`[backup-restore] ${source}: ${compared} tables equal to the live ones in ${scratchPg[source]}`);
      } finally {
        await restored.end();
      }
    }, 600_000);
  }

  it('ClickHouse: the data tables restored into scratch databases equal the live ones', async () => {
    const r = await cli('restore', ['clickhouse', backupDir, '--database-prefix', CH_PREFIX]);
    expect(r.code, r.out).toBe(0);
    const tables = manifest.clickhouse!.tables.filter((t) => /MergeTree$/.test(t.engine) || t.engine === 'Join');
    expect(tables.length).toBeGreaterThanOrEqual(5);
    let compared = 0;
    for (const t of tables) {
      const live = stableCh.get(`${t.database}.${t.name}`);
      if (live === undefined) continue; // changed during the backup (not a pipeline table: those are required below)
      expect(await chFingerprint(`${CH_PREFIX}${t.database}`, t.name, t.engine), `${t.database}.${t.name}`).toBe(live);
      compared++;
    }
    for (const t of MUST_BE_STABLE_CH) expect(stableCh.has(t)).toBe(true);
    // A Kafka table or a view in the scratch copy would consume the live topics: none is there.
    const rs = await ch.query({
      query: `SELECT count() AS n FROM system.tables WHERE startsWith(database, '${CH_PREFIX}') AND engine IN ('Kafka', 'MaterializedView', 'View')`,
      format: 'JSONEachRow',
    });
    expect(Number((await rs.json<{ n: number }>())[0]!.n)).toBe(0);
    // The comparison can fail: one row less in the copy is seen.
    await ch.command({ query: `ALTER TABLE \`${CH_PREFIX}default\`.users DELETE WHERE id = ${markerUsers[0]} SETTINGS mutations_sync = 1` });
    expect(await chFingerprint(`${CH_PREFIX}default`, 'users', 'ReplacingMergeTree')).not.toBe(stableCh.get('default.users'));
    console.log(`[backup-restore] ClickHouse: ${compared} of ${tables.length} data tables equal to the live ones`);
  }, 600_000);
});
