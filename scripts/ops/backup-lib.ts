/**
 * Backup and restore of the pipeline's state: both PostgreSQL databases (pg_dump,
 * custom format, one consistent snapshot each) and ClickHouse (schema from SHOW
 * CREATE, data per table as gzipped TabSeparated files), with a manifest that says what was taken,
 * when, and where the stream was at that moment (WAL LSNs, replication slots,
 * Debezium's stored offsets, every consumer group's committed offsets).
 *
 * CLIs: scripts/ops/backup.ts and scripts/ops/restore.ts; procedures:
 * docs/backup-restore.md.
 */
import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable, Transform } from 'node:stream';
import { createGunzip, createGzip } from 'node:zlib';
import { z } from 'zod';
import pg from 'pg';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { createKafka, kafkaAccess } from '@cdc/kafka';
import { endpointsSchema, parseEnv } from '@cdc/config';
import { ConnectClient } from '@cdc/connect';

// ---------------------------------------------------------------------------------------------
// configuration

const opsSchema = endpointsSchema.extend({
  /** Debian's PostgreSQL 15 client binaries (pg_dump, pg_restore); the same variable as the stack's. */
  PG_BIN: z.string().default('/usr/lib/postgresql/15/bin'),
  /** Where `npm run backup` writes backups/<timestamp>/ (relative to the working directory). */
  BACKUP_DIR: z.string().default('backups'),
});
export type OpsConfig = z.infer<typeof opsSchema>;

export function loadOpsConfig(env: Record<string, string | undefined> = process.env): OpsConfig {
  return parseEnv('backup', opsSchema, env);
}

export const SOURCES = ['crm', 'telemetry'] as const;
export type Source = (typeof SOURCES)[number];

export function sourceUrl(config: OpsConfig, source: Source): string {
  return source === 'crm' ? config.CRM_DATABASE_URL : config.TELEMETRY_DATABASE_URL;
}

export const DEFAULT_CLICKHOUSE_DATABASES = ['default', 'debezium', 'analytics'];

// ---------------------------------------------------------------------------------------------
// manifest

export interface PgTableCount {
  table: string;
  rows: number;
}

export interface PostgresEntry {
  source: Source;
  database: string;
  host: string;
  port: number;
  file: string;
  bytes: number;
  sha256: string;
  seconds: number;
  serverVersion: string;
  pgDumpVersion: string;
  /** pg_current_wal_lsn() read in the statement that took the snapshot pg_dump used. */
  snapshotLsn: string;
  snapshotAt: string;
  /** Every table's row count inside that same snapshot: what a restore must contain. */
  tables: PgTableCount[];
  /** Logical replication slots of this database at backup time (not in the dump). */
  slots: { slot_name: string; plugin: string; active: boolean; confirmed_flush_lsn: string | null; restart_lsn: string | null }[];
}

export interface ChFile {
  file: string;
  rows: number;
  bytes: number;
  sha256: string;
}

export interface ChTableEntry {
  database: string;
  name: string;
  engine: string;
  /** SHOW CREATE TABLE, as ClickHouse prints it. */
  create: string;
  /** db.table of the views that read this table (a Kafka table's parsing view). */
  dependents: string[];
  /** The columns the data files hold, in order (every column but MATERIALIZED/ALIAS/EPHEMERAL ones). */
  columns: string[];
  /** Data files; empty for tables without data of their own (Kafka, Null, views). */
  files: ChFile[];
  rows: number;
  sortingKey: string;
}

export interface ClickHouseEntry {
  url: string;
  version: string;
  seconds: number;
  databases: { name: string; create: string }[];
  tables: ChTableEntry[];
  /** default.schema_migrations at backup time: which clickhouse/*.sql files this schema needs. */
  migrations: { version: number; name: string; checksum: string }[];
}

export interface KafkaEntry {
  brokers: string[];
  at: string;
  topics: { topic: string; partitions: { partition: number; low: string; high: string }[] }[];
  /** Committed offsets of every consumer group, read before ClickHouse was exported. */
  groups: { group: string; state: string; offsets: { topic: string; partition: number; offset: string }[] }[];
}

export interface ConnectEntry {
  url: string;
  connectors: { name: string; status: unknown; offsets: unknown; config: Record<string, string> }[];
}

export interface Manifest {
  format: 'cdc-pipeline-backup/1';
  startedAt: string;
  finishedAt: string;
  seconds: number;
  host: string;
  gitCommit: string | null;
  kafka?: KafkaEntry;
  connect?: ConnectEntry;
  postgres: PostgresEntry[];
  clickhouse?: ClickHouseEntry;
}

export function readManifest(dir: string): Manifest {
  const file = join(dir, 'manifest.json');
  if (!existsSync(file)) throw new Error(`${file} does not exist: not a (complete) backup directory`);
  return JSON.parse(readFileSync(file, 'utf8')) as Manifest;
}

// ---------------------------------------------------------------------------------------------
// helpers

export function stamp(d = new Date()): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}

export interface PgParts {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
}

export function pgParts(url: string, database?: string): PgParts {
  const u = new URL(url);
  return {
    host: u.hostname,
    port: Number(u.port || 5432),
    user: decodeURIComponent(u.username || 'postgres'),
    password: decodeURIComponent(u.password),
    database: database ?? u.pathname.slice(1),
  };
}

export function pgClient(p: PgParts): pg.Client {
  return new pg.Client({ host: p.host, port: p.port, user: p.user, password: p.password, database: p.database });
}

/** Runs a PostgreSQL client binary with the password in the environment (never on the command line). */
export function runPgTool(config: OpsConfig, tool: string, args: string[], p: PgParts): Promise<{ stdout: string; stderr: string }> {
  const bin = existsSync(join(config.PG_BIN, tool)) ? join(config.PG_BIN, tool) : tool;
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { env: { ...process.env, PGPASSWORD: p.password, PGCONNECT_TIMEOUT: '10' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve({ stdout, stderr });
      else reject(new Error(`${tool} ${args.join(' ')} exited ${code}:\n${stderr.trim().split('\n').slice(-20).join('\n')}`));
    });
  });
}

export const connArgs = (p: PgParts) => ['-h', p.host, '-p', String(p.port), '-U', p.user];

export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

// ---------------------------------------------------------------------------------------------
// ClickHouse over HTTP (chDB's server or a real one): plain fetch, for streamed bodies and the
// X-ClickHouse-Summary header.

export class ClickHouseHttp {
  constructor(
    readonly url: string,
    private readonly user: string,
    private readonly password: string,
  ) {}

  async request(sql: string, opts: { body?: Buffer; settings?: Record<string, string | number> } = {}): Promise<Response> {
    const u = new URL(this.url);
    if (opts.body) u.searchParams.set('query', sql);
    for (const [k, v] of Object.entries(opts.settings ?? {})) u.searchParams.set(k, String(v));
    const res = await fetch(u, {
      method: 'POST',
      headers: { 'X-ClickHouse-User': this.user, 'X-ClickHouse-Key': this.password },
      body: opts.body ?? sql,
    });
    if (!res.ok) throw new Error(`ClickHouse refused: ${sql.slice(0, 200)}\n  → ${res.status} ${(await res.text()).trim()}`);
    return res;
  }

  async command(sql: string, settings?: Record<string, string | number>): Promise<void> {
    await (await this.request(sql, { settings })).arrayBuffer();
  }

  async rows<T>(sql: string): Promise<T[]> {
    const res = await this.request(`${sql} FORMAT JSONEachRow`, { settings: { output_format_json_quote_64bit_integers: 0 } });
    return (await res.text())
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as T);
  }

  /**
   * Streams a SELECT's output, gzipped, into `file`, and returns its row count.
   * TabSeparated: readable with zcat, and it round-trips every value exactly, invalid
   * UTF-8 and NUL bytes included (chosen when chdb-server still cut binary INSERT bodies
   * short; since fixed). It escapes newlines inside values, so rows are counted as
   * lines: a streamed answer's X-ClickHouse-Summary is as of when its headers were
   * sent, not the final count.
   */
  async exportRows(select: string, file: string): Promise<number> {
    const res = await this.request(`${select} FORMAT TabSeparated`);
    let rows = 0;
    const count = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) rows++;
        done(null, chunk);
      },
    });
    await pipeline(Readable.fromWeb(res.body! as never), count, createGzip({ level: 6 }), createWriteStream(file));
    return rows;
  }

  /** Inserts a gzipped TabSeparated file; returns written_rows from the summary header. */
  async importRows(table: string, columns: string[], file: string): Promise<number> {
    const chunks: Buffer[] = [];
    await pipeline(createReadStream(file), createGunzip(), async function* (source) {
      for await (const c of source) chunks.push(c as Buffer);
    });
    const cols = columns.map((c) => `\`${c.replaceAll('`', '\\`')}\``).join(', ');
    // optimize_on_insert = 0: the rows go in as they were, every version of a
    // ReplacingMergeTree row included (a merge collapses them later, as before).
    const res = await this.request(`INSERT INTO ${table} (${cols}) FORMAT TabSeparated`, {
      body: Buffer.concat(chunks),
      settings: { optimize_on_insert: 0 },
    });
    await res.arrayBuffer();
    const summary = JSON.parse(res.headers.get('x-clickhouse-summary') ?? '{}') as { written_rows?: string };
    return Number(summary.written_rows ?? NaN);
  }
}

export function clickhouseHttp(config: OpsConfig): ClickHouseHttp {
  return new ClickHouseHttp(config.CLICKHOUSE_URL, config.CLICKHOUSE_USER, config.CLICKHOUSE_PASSWORD);
}

/** Engines whose tables hold data of their own (what a backup exports). */
export function holdsData(engine: string): boolean {
  return /MergeTree$/.test(engine) || ['Join', 'Memory', 'Set', 'Log', 'TinyLog', 'StripeLog', 'EmbeddedRocksDB'].includes(engine);
}

// ---------------------------------------------------------------------------------------------
// Kafka

export function kafkaAdmin(config: OpsConfig): Admin {
  return createKafka({ ...kafkaAccess(config), logLevel: 'silent' }, 'cdc-backup').admin();
}

export async function kafkaState(config: OpsConfig): Promise<KafkaEntry> {
  const admin = kafkaAdmin(config);
  await admin.connect();
  try {
    const at = new Date().toISOString();
    const names = (await admin.listTopics()).filter((t) => !t.startsWith('__')).sort();
    const topics = [];
    for (const topic of names) {
      const offsets = await admin.fetchTopicOffsets(topic);
      topics.push({ topic, partitions: offsets.map((o) => ({ partition: o.partition, low: o.low, high: o.high })) });
    }
    const listed = (await admin.listGroups()).groups.map((g) => g.groupId).sort();
    const described = listed.length ? (await admin.describeGroups(listed)).groups : [];
    const groups = [];
    for (const group of listed) {
      const committed = await admin.fetchOffsets({ groupId: group });
      groups.push({
        group,
        state: described.find((d) => d.groupId === group)?.state ?? 'unknown',
        offsets: committed.flatMap((t) =>
          t.partitions.filter((p) => Number(p.offset) >= 0).map((p) => ({ topic: t.topic, partition: p.partition, offset: p.offset })),
        ),
      });
    }
    return { brokers: config.KAFKA_BROKERS, at, topics, groups };
  } finally {
    await admin.disconnect();
  }
}

/**
 * Sets a consumer group's committed offsets (the group must have no members: Kafka
 * refuses to move the offsets of a group that is consuming). Waits up to `waitS` for
 * the group to empty — a chDB that went away leaves its members until their session
 * times out (45 s).
 */
export async function setGroupOffsets(
  admin: Admin,
  group: string,
  offsets: { topic: string; partition: number; offset: string }[],
  waitS = 120,
): Promise<void> {
  const deadline = Date.now() + waitS * 1000;
  for (;;) {
    const [d] = (await admin.describeGroups([group])).groups;
    if (!d || d.members.length === 0) break;
    if (Date.now() > deadline) throw new Error(`consumer group ${group} still has ${d.members.length} member(s) after ${waitS}s; stop its consumers first`);
    await new Promise((r) => setTimeout(r, 2000));
  }
  const byTopic = new Map<string, { partition: number; offset: string }[]>();
  for (const o of offsets) byTopic.set(o.topic, [...(byTopic.get(o.topic) ?? []), { partition: o.partition, offset: o.offset }]);
  for (const [topic, partitions] of byTopic) await admin.setOffsets({ groupId: group, topic, partitions });
}

// ---------------------------------------------------------------------------------------------
// Kafka Connect

/** What Connect answered, or the error: a backup records the state it could read. */
async function orError<T>(read: Promise<T>): Promise<T | { error: string }> {
  return read.catch((err: Error) => ({ error: err.message }));
}

export async function connectState(config: OpsConfig): Promise<ConnectEntry> {
  const connect = new ConnectClient(config.KAFKA_CONNECT_URL);
  const connectors = [];
  for (const name of (await connect.list()).sort()) {
    connectors.push({
      name,
      status: await orError(connect.status(name)),
      offsets: await orError(connect.offsets(name)),
      config: (await connect.config(name)) ?? {},
    });
  }
  return { url: config.KAFKA_CONNECT_URL, connectors };
}

// ---------------------------------------------------------------------------------------------
// backup

/**
 * pg_dump of one database in custom format, from a snapshot this function exports and
 * holds open: the manifest's LSN and row counts are read in that very snapshot, so
 * they describe exactly what the dump contains.
 */
export async function backupPostgres(config: OpsConfig, source: Source, dir: string, log: (l: string) => void): Promise<PostgresEntry> {
  const p = pgParts(sourceUrl(config, source));
  const t0 = Date.now();
  const client = pgClient(p);
  await client.connect();
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY');
    const snap = await client.query<{ snapshot: string; lsn: string; at: Date; version: string }>(
      'SELECT pg_export_snapshot() AS snapshot, pg_current_wal_lsn()::text AS lsn, clock_timestamp() AS at, version() AS version',
    );
    const { snapshot, lsn, at, version } = snap.rows[0]!;
    const tableRows = await client.query<{ schema: string; name: string }>(
      `SELECT n.nspname AS schema, c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
        ORDER BY 1, 2`,
    );
    const tables: PgTableCount[] = [];
    for (const t of tableRows.rows) {
      const r = await client.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${quoteIdent(t.schema)}.${quoteIdent(t.name)}`);
      tables.push({ table: `${t.schema}.${t.name}`, rows: Number(r.rows[0]!.n) });
    }
    const slots = (
      await client.query<PostgresEntry['slots'][number]>(
        `SELECT slot_name, plugin, active, confirmed_flush_lsn::text, restart_lsn::text FROM pg_replication_slots WHERE database = current_database() ORDER BY slot_name`,
      )
    ).rows;
    const file = `postgres/${source}.dump`;
    log(`  pg_dump ${p.database} @ ${p.host}:${p.port} (snapshot ${snapshot}, LSN ${lsn}) → ${file}`);
    await runPgTool(config, 'pg_dump', [...connArgs(p), '-d', p.database, '--format=custom', `--snapshot=${snapshot}`, '--file', join(dir, file)], p);
    await client.query('COMMIT');
    const { stdout: dumpVersion } = await runPgTool(config, 'pg_dump', ['--version'], p);
    // The archive's table of contents must be readable: a truncated file fails here, not at restore time.
    await runPgTool(config, 'pg_restore', ['--list', join(dir, file)], p);
    return {
      source,
      database: p.database,
      host: p.host,
      port: p.port,
      file,
      bytes: statSync(join(dir, file)).size,
      sha256: await sha256File(join(dir, file)),
      seconds: (Date.now() - t0) / 1000,
      serverVersion: version,
      pgDumpVersion: dumpVersion.trim(),
      snapshotLsn: lsn,
      snapshotAt: at.toISOString(),
      tables,
      slots,
    };
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * Every table of `databases`: its CREATE statement, and for tables that hold data the
 * rows as gzipped TabSeparated files. Tables larger than `chunkRows` are split by a hash of
 * their sorting key, so every version of a row lands in the same file whatever merges
 * happen meanwhile, and no single HTTP answer or INSERT body gets large (chdb-server
 * buffers whole answers and takes bodies up to 256 MiB).
 */
export async function backupClickHouse(
  config: OpsConfig,
  databases: string[],
  dir: string,
  chunkRows: number,
  log: (l: string) => void,
): Promise<ClickHouseEntry> {
  const ch = clickhouseHttp(config);
  const t0 = Date.now();
  const [{ version }] = (await ch.rows<{ version: string }>('SELECT version() AS version')) as [{ version: string }];
  const dbList = databases.map((d) => `'${d.replaceAll("'", "\\'")}'`).join(', ');
  const existing = (await ch.rows<{ name: string }>(`SELECT name FROM system.databases WHERE name IN (${dbList})`)).map((r) => r.name);
  const missing = databases.filter((d) => !existing.includes(d));
  if (missing.length) throw new Error(`ClickHouse has no database ${missing.join(', ')}`);

  const ledger = await ch.rows<{ n: number }>(`SELECT count() AS n FROM system.tables WHERE database = 'default' AND name = 'schema_migrations'`);
  const migrations = Number(ledger[0]!.n)
    ? await ch.rows<{ version: number; name: string; checksum: string }>('SELECT version, name, checksum FROM default.schema_migrations ORDER BY version')
    : [];
  const entry: ClickHouseEntry = { url: config.CLICKHOUSE_URL, version, seconds: 0, databases: [], tables: [], migrations };
  for (const db of databases) {
    const [create] = await ch.rows<{ statement: string }>(`SHOW CREATE DATABASE \`${db}\``);
    entry.databases.push({ name: db, create: create!.statement });
  }
  const tables = await ch.rows<{
    database: string; name: string; engine: string; sorting_key: string; total_rows: number | null;
    dependencies_database: string[]; dependencies_table: string[];
  }>(
    `SELECT database, name, engine, sorting_key, total_rows, dependencies_database, dependencies_table
       FROM system.tables WHERE database IN (${dbList}) AND NOT is_temporary AND NOT startsWith(name, '.inner')
      ORDER BY database, name`,
  );
  for (const t of tables) {
    const fq = `\`${t.database}\`.\`${t.name}\``;
    const [create] = await ch.rows<{ statement: string }>(`SHOW CREATE TABLE ${fq}`);
    const columns = (
      await ch.rows<{ name: string }>(
        `SELECT name FROM system.columns WHERE database = '${t.database}' AND table = '${t.name}' AND default_kind NOT IN ('MATERIALIZED', 'ALIAS', 'EPHEMERAL') ORDER BY position`,
      )
    ).map((c) => c.name);
    const te: ChTableEntry = {
      database: t.database,
      name: t.name,
      engine: t.engine,
      create: create!.statement,
      dependents: t.dependencies_table.map((name, i) => `${t.dependencies_database[i]}.${name}`),
      columns,
      files: [],
      rows: 0,
      sortingKey: t.sorting_key,
    };
    if (holdsData(t.engine)) {
      const [{ n }] = (await ch.rows<{ n: number }>(`SELECT count() AS n FROM ${fq}`)) as [{ n: number }];
      const chunks = t.sorting_key && n > chunkRows ? Math.ceil(n / chunkRows) : 1;
      mkdirSync(join(dir, 'clickhouse', t.database), { recursive: true });
      for (let i = 0; i < chunks; i++) {
        const file = `clickhouse/${t.database}/${t.name}.${String(i).padStart(4, '0')}.tsv.gz`;
        const where = chunks > 1 ? ` WHERE cityHash64(${t.sorting_key}) % ${chunks} = ${i}` : '';
        const rows = await ch.exportRows(`SELECT ${columns.map((c) => `\`${c}\``).join(', ')} FROM ${fq}${where}`, join(dir, file));
        te.files.push({ file, rows, bytes: statSync(join(dir, file)).size, sha256: await sha256File(join(dir, file)) });
        te.rows += rows;
      }
      log(`  ${t.database}.${t.name} (${t.engine}): ${te.rows} rows in ${chunks} file(s)`);
    }
    entry.tables.push(te);
  }
  entry.seconds = (Date.now() - t0) / 1000;
  return entry;
}
