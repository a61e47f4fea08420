/**
 * A test of the test command: with the user's stack running (`npm run up`), runs the
 * tests and checks that they left that stack exactly as it was: the same rows in both
 * PostgreSQL databases and in ClickHouse, the same Kafka topics and consumer groups, and
 * every component still the same process (nothing killed, nothing restarted).
 *
 *   npm run test:isolation                      # around `npm test`
 *   npm run test:isolation -- npx vitest run tests/smoke.int.test.ts
 *
 * Don't use the stack yourself while it runs: your own writes would count as changes.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createClient } from '@clickhouse/client';
import { Kafka, logLevel } from 'kafkajs';
import { createKafka, kafkaAccess } from '@cdc/kafka';
import pg from 'pg';
import { loadDotEnv } from '@cdc/config';
import { loadStackConfig, REPO_ROOT, type StackConfig } from './stack/config.js';
import { status } from './stack/stack.js';

const USAGE = `usage: npm run test:isolation [-- <command…>]

Snapshots the running user stack (.env / defaults), runs <command> (default: npm test),
snapshots again and prints every difference.
Exit codes: 0 untouched, 1 the stack changed (or the command failed), 2 usage or no stack running.`;

type Snapshot = Map<string, string>;

/** Each component's pid and start time: a restart changes one of them. */
async function processes(config: StackConfig, into: Snapshot): Promise<void> {
  for (const s of await status(config)) {
    if (!s.pid || !s.health.ok) throw new UsageError(`${s.name} is not running: start the stack with npm run up first`);
    const startTicks = readFileSync(`/proc/${s.pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[19];
    into.set(`process ${s.name}`, `pid ${s.pid} started at tick ${startTicks}`);
  }
}

/** Every table of the public schema: row count and a digest of its rows (debezium.heartbeat ticks by itself). */
async function postgres(config: StackConfig, into: Snapshot): Promise<void> {
  for (const cluster of config.postgres) {
    const client = new pg.Client({ connectionString: cluster.url.href });
    await client.connect();
    try {
      const tables = (await client.query<{ t: string }>(`SELECT format('%I.%I', schemaname, tablename) AS t FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`)).rows;
      for (const { t } of tables) {
        const r = await client.query<{ n: string; digest: string | null }>(`SELECT count(*)::text AS n, md5(string_agg(x::text, ',' ORDER BY x::text)) AS digest FROM ${t} x`);
        into.set(`postgres ${cluster.database}.${t}`, `${r.rows[0]!.n} rows, digest ${r.rows[0]!.digest}`);
      }
    } finally {
      await client.end();
    }
  }
}

/** Every stored table: rows as queries see them (FINAL where merges collapse rows), and a digest. */
async function clickhouse(config: StackConfig, into: Snapshot): Promise<void> {
  const ch = createClient({ url: config.clickhouse.url.origin, username: config.env.CLICKHOUSE_USER, password: config.env.CLICKHOUSE_PASSWORD });
  try {
    const tables = await (
      await ch.query({
        query: `SELECT database, name, engine FROM system.tables
                 WHERE database IN ('default', 'debezium', 'analytics') AND engine LIKE '%MergeTree' ORDER BY database, name`,
        format: 'JSONEachRow',
      })
    ).json<{ database: string; name: string; engine: string }>();
    for (const t of tables) {
      const final = t.engine === 'MergeTree' ? '' : 'FINAL';
      const [r] = await (
        await ch.query({ query: `SELECT toString(count()) AS n, toString(sum(cityHash64(*))) AS digest FROM ${t.database}.${t.name} ${final}`, format: 'JSONEachRow' })
      ).json<{ n: string; digest: string }>();
      into.set(`clickhouse ${t.database}.${t.name}`, `${r!.n} rows, digest ${r!.digest}`);
    }
  } finally {
    await ch.close();
  }
}

async function kafka(config: StackConfig, into: Snapshot): Promise<void> {
  const admin = createKafka({ ...kafkaAccess(config.env), logLevel: 'silent' }, 'test-isolation').admin();
  await admin.connect();
  try {
    for (const topic of (await admin.listTopics()).sort()) into.set(`kafka topic ${topic}`, 'exists');
    for (const g of (await admin.listGroups()).groups.map((x) => x.groupId).sort()) into.set(`kafka group ${g}`, 'exists');
  } finally {
    await admin.disconnect();
  }
}

async function snapshot(config: StackConfig): Promise<Snapshot> {
  const s: Snapshot = new Map();
  await processes(config, s);
  await postgres(config, s);
  await clickhouse(config, s);
  await kafka(config, s);
  return s;
}

function differences(before: Snapshot, after: Snapshot): string[] {
  const keys = [...new Set([...before.keys(), ...after.keys()])].sort();
  return keys.filter((k) => before.get(k) !== after.get(k)).map((k) => `${k}: ${before.get(k) ?? '(absent)'} → ${after.get(k) ?? '(absent)'}`);
}

function run(command: string[]): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(command[0]!, command.slice(1), { cwd: REPO_ROOT, stdio: 'inherit' });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

class UsageError extends Error {}

async function main(argv: string[]): Promise<number> {
  // Everything from the first word on is the command, with its own flags.
  if (argv[0] === '-h' || argv[0] === '--help') {
    console.log(USAGE);
    return 0;
  }
  if (argv[0]?.startsWith('-')) throw new UsageError(`unknown option ${argv[0]}\n${USAGE}`);
  loadDotEnv();
  const config = loadStackConfig();
  const command = argv.length > 0 ? argv : ['npm', 'test'];
  const before = await snapshot(config);
  console.log(`[test-isolation] user stack in ${config.stateDir}: ${before.size} things recorded; running: ${command.join(' ')}`);
  const t0 = Date.now();
  const exit = await run(command);
  const seconds = ((Date.now() - t0) / 1000).toFixed(0);
  const diff = differences(before, await snapshot(config));
  for (const d of diff) console.log(`[test-isolation] changed: ${d}`);
  console.log(`[test-isolation] command exited ${exit} after ${seconds} s; user stack ${diff.length === 0 ? 'untouched' : `changed in ${diff.length} places`}`);
  return exit !== 0 || diff.length > 0 ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: Error) => {
    console.error(`✘ ${err.message}`);
    process.exit(err instanceof UsageError ? 2 : 1);
  },
);
