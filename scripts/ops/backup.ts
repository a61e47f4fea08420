/**
 * npm run backup [-- --out DIR] [--only crm,telemetry,clickhouse] [--clickhouse-databases default,debezium,analytics]
 *                [--chunk-rows N] [--no-kafka]
 *
 * Writes DIR/<UTC timestamp>/ (DIR: BACKUP_DIR, default backups/):
 *   manifest.json                what, when, and where the stream was (LSNs, slots, Debezium
 *                                offsets, consumer group offsets), every file with size and sha256
 *   postgres/<crm|telemetry>.dump   pg_dump --format=custom from one exported snapshot each
 *   clickhouse/<db>/<table>.NNNN.tsv.gz   rows, SELECT … FORMAT TabSeparated, gzipped
 * The directory is written as <timestamp>.partial and renamed when complete, so a
 * directory without .partial always holds a whole backup.
 *
 * Order: Kafka and Connect state first (ClickHouse then holds at least everything up to
 * the recorded consumer offsets, which is what a restore rewinds the groups to), then
 * ClickHouse, then each PostgreSQL database. Exit 0 ok, 1 failure, 2 usage.
 */
import { hostname } from 'node:os';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { loadDotEnv } from '@cdc/config';
import {
  backupClickHouse, backupPostgres, connectState, DEFAULT_CLICKHOUSE_DATABASES, kafkaState, loadOpsConfig, SOURCES, stamp,
  type Manifest, type Source,
} from './backup-lib.js';

const USAGE = `usage: npm run backup -- [--out DIR] [--only crm,telemetry,clickhouse] [--clickhouse-databases a,b] [--chunk-rows N] [--no-kafka]`;

async function main(): Promise<number> {
  loadDotEnv();
  let args;
  try {
    args = parseArgs({
      options: {
        out: { type: 'string' },
        only: { type: 'string' },
        'clickhouse-databases': { type: 'string' },
        'chunk-rows': { type: 'string' },
        'no-kafka': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (args.help) {
    console.log(USAGE);
    return 0;
  }
  const parts = (args.only ?? 'crm,telemetry,clickhouse').split(',').map((s) => s.trim());
  const unknown = parts.filter((p) => ![...SOURCES, 'clickhouse'].includes(p));
  const chunkRows = Number(args['chunk-rows'] ?? 200_000);
  if (unknown.length || !Number.isInteger(chunkRows) || chunkRows < 1) {
    console.error(`${unknown.length ? `unknown part(s): ${unknown.join(', ')}` : 'bad --chunk-rows'}\n${USAGE}`);
    return 2;
  }
  const config = loadOpsConfig();
  const started = new Date();
  const name = stamp(started);
  const finalDir = resolve(args.out ?? config.BACKUP_DIR, name);
  const dir = `${finalDir}.partial`;
  mkdirSync(join(dir, 'postgres'), { recursive: true });
  const log = (l: string) => console.log(l);
  log(`backup ${name} → ${dir}`);

  let gitCommit: string | null = null;
  try {
    gitCommit = execFileSync('git', ['rev-parse', 'HEAD'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  } catch {
    // not a checkout
  }
  const manifest: Manifest = {
    format: 'cdc-pipeline-backup/1',
    startedAt: started.toISOString(),
    finishedAt: '',
    seconds: 0,
    host: hostname(),
    gitCommit,
    postgres: [],
  };
  try {
    if (!args['no-kafka']) {
      manifest.kafka = await kafkaState(config);
      manifest.connect = await connectState(config);
      log(`  kafka: ${manifest.kafka.topics.length} topics, ${manifest.kafka.groups.length} consumer groups; connect: ${manifest.connect.connectors.map((c) => c.name).join(', ') || 'no connectors'}`);
    }
    if (parts.includes('clickhouse')) {
      const dbs = (args['clickhouse-databases'] ?? DEFAULT_CLICKHOUSE_DATABASES.join(',')).split(',').map((s) => s.trim()).filter(Boolean);
      manifest.clickhouse = await backupClickHouse(config, dbs, dir, chunkRows, log);
      log(`  clickhouse: ${manifest.clickhouse.tables.length} tables, ${manifest.clickhouse.tables.reduce((n, t) => n + t.rows, 0)} rows (${manifest.clickhouse.seconds.toFixed(1)} s)`);
    }
    for (const source of SOURCES.filter((s) => parts.includes(s)) as Source[]) {
      const e = await backupPostgres(config, source, dir, log);
      manifest.postgres.push(e);
      log(`  ${source}: ${e.tables.map((t) => `${t.table} ${t.rows}`).join(', ')}; ${(e.bytes / 1024).toFixed(0)} KiB (${e.seconds.toFixed(1)} s)`);
    }
    const finished = new Date();
    manifest.finishedAt = finished.toISOString();
    manifest.seconds = (finished.getTime() - started.getTime()) / 1000;
    writeFileSync(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    renameSync(dir, finalDir);
    log(`✔ backup complete: ${finalDir} (${manifest.seconds.toFixed(1)} s)`);
    return 0;
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    console.error(`✘ backup failed, nothing kept: ${(err as Error).message}`);
    return 1;
  }
}

main().then((code) => process.exit(code));
