/**
 * Restores what `npm run backup` wrote. Procedures, and why each step is there:
 * docs/backup-restore.md.
 *
 *   npm run restore -- verify <backup>                       sizes, sha256 and pg_restore --list of every file
 *   npm run restore -- postgres <backup> <crm|telemetry> --into <database>
 *        a NEW database on the same server (scratch, inspection, before a swap); row
 *        counts checked against the counts taken in the dump's snapshot
 *   npm run restore -- postgres <backup> <crm|telemetry> --replace
 *        the live database: dump restored beside it, Debezium connector stopped and its
 *        offsets and slot removed, restored database swapped in by rename (the old one is
 *        kept as <db>__pre_restore_<stamp>), sequences kept ahead, rows that only the old
 *        database had retired with Debezium-shaped delete events, connector registered
 *        again (initial snapshot), PostgreSQL = ClickHouse awaited
 *   npm run restore -- clickhouse <backup> --database-prefix <p>
 *        the tables that hold data, into databases <p><db> (no Kafka tables, no views):
 *        a side copy that does not touch the pipeline
 *   npm run restore -- clickhouse <backup> --replace [--groups g1,g2]
 *        the pipeline's databases dropped and rebuilt from the backup, the ClickHouse
 *        consumer groups (and --groups, e.g. stream-processor-enrich, whose consumers must
 *        be stopped) rewound to the offsets recorded at backup time, Kafka tables last:
 *        ClickHouse replays every change since the backup
 *
 * Exit codes: 0 done, 1 failed, 2 usage.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { Kafka, logLevel } from 'kafkajs';
import { createKafka, kafkaAccess } from '@cdc/kafka';
import { createClient } from '@clickhouse/client';
import { loadDotEnv } from '@cdc/config';
import { ConnectClient, applyConnector, loadConnectorDefinitions } from '../lib/connectors.js';
import { describeDiff, isEqual, TELEMETRY_EVENTS, USERS, waitForEquality } from '../lib/cdc-compare.js';
import { loadMigrations } from '../lib/clickhouse-migrations.js';
import { dropSlotWhenReleased } from '@cdc/db/slots';
import {
  clickhouseHttp, connArgs, holdsData, kafkaAdmin, loadOpsConfig, pgClient, pgParts, quoteIdent, readManifest,
  runPgTool, setGroupOffsets, sha256File, SOURCES, sourceUrl, stamp,
  type ChTableEntry, type Manifest, type OpsConfig, type PostgresEntry, type Source,
} from './backup-lib.js';

const USAGE = `usage:
  npm run restore -- verify <backup>
  npm run restore -- postgres <backup> <crm|telemetry> --into <database>
  npm run restore -- postgres <backup> <crm|telemetry> --replace [--no-wait]
  npm run restore -- clickhouse <backup> --database-prefix <prefix>
  npm run restore -- clickhouse <backup> --replace [--groups g1,g2]`;

class UsageError extends Error {}

const log = (l: string) => console.log(l);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function timed<T>(what: string, fn: () => Promise<T>): Promise<T> {
  const t0 = Date.now();
  const v = await fn();
  log(`✔ ${what} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  return v;
}

// ---------------------------------------------------------------------------------------------
// verify

async function verify(dir: string, m: Manifest, config: OpsConfig): Promise<void> {
  const files = [
    ...m.postgres.map((p) => ({ file: p.file, bytes: p.bytes, sha256: p.sha256 })),
    ...(m.clickhouse?.tables.flatMap((t) => t.files) ?? []),
  ];
  const bad: string[] = [];
  for (const f of files) {
    const path = join(dir, f.file);
    if (!existsSync(path)) bad.push(`${f.file}: missing`);
    else if (statSync(path).size !== f.bytes) bad.push(`${f.file}: ${statSync(path).size} bytes, manifest says ${f.bytes}`);
    else if ((await sha256File(path)) !== f.sha256) bad.push(`${f.file}: sha256 differs from the manifest`);
  }
  for (const p of m.postgres) {
    if (existsSync(join(dir, p.file))) {
      await runPgTool(config, 'pg_restore', ['--list', join(dir, p.file)], pgParts(sourceUrl(config, p.source))).catch((e: Error) =>
        bad.push(`${p.file}: pg_restore --list failed: ${e.message}`),
      );
    }
  }
  if (bad.length) throw new Error(`backup ${dir} is damaged:\n  ${bad.join('\n  ')}`);
  log(`✔ ${files.length} files match the manifest (sizes, sha256); ${m.postgres.length} dump(s) readable by pg_restore`);
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL

function pgEntry(m: Manifest, source: Source): PostgresEntry {
  const e = m.postgres.find((p) => p.source === source);
  if (!e) throw new Error(`the backup has no ${source} database (it has: ${m.postgres.map((p) => p.source).join(', ') || 'none'})`);
  return e;
}

/** CREATE DATABASE + pg_restore, then every table's row count against the dump's snapshot. */
async function restoreInto(config: OpsConfig, dir: string, e: PostgresEntry, database: string): Promise<void> {
  const admin = pgParts(sourceUrl(config, e.source), 'postgres');
  const target = pgParts(sourceUrl(config, e.source), database);
  const c = pgClient(admin);
  await c.connect();
  try {
    const exists = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (exists.rowCount) throw new Error(`database ${database} already exists on ${admin.host}:${admin.port}; restore into a new one`);
    await c.query(`CREATE DATABASE ${quoteIdent(database)}`);
  } finally {
    await c.end();
  }
  await timed(`pg_restore ${e.file} → ${database} @ ${target.host}:${target.port}`, () =>
    runPgTool(config, 'pg_restore', [...connArgs(target), '-d', database, '--exit-on-error', '--jobs=2', join(dir, e.file)], target),
  );
  const t = pgClient(target);
  await t.connect();
  try {
    const wrong: string[] = [];
    for (const { table, rows } of e.tables) {
      const [schema, name] = table.split('.') as [string, string];
      const r = await t.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${quoteIdent(schema)}.${quoteIdent(name)}`);
      if (Number(r.rows[0]!.n) !== rows) wrong.push(`${table}: ${r.rows[0]!.n} rows, the dump's snapshot had ${rows}`);
    }
    if (wrong.length) throw new Error(`restored ${database} differs from the backup:\n  ${wrong.join('\n  ')}`);
    log(`✔ ${database}: ${e.tables.map((x) => `${x.table} ${x.rows}`).join(', ')} — as in the snapshot (LSN ${e.snapshotLsn}, ${e.snapshotAt})`);
  } finally {
    await t.end();
  }
}

/** Registered connectors reading this source's database (the JSON and, if registered, the Avro one). */
async function connectorsOf(connect: ConnectClient, config: OpsConfig, source: Source): Promise<{ name: string; config: Record<string, string> }[]> {
  const database = pgParts(sourceUrl(config, source)).database;
  const found = [];
  for (const name of await connect.list()) {
    const cfg = (await connect.config(name)) ?? {};
    const db = cfg['database.dbname'];
    if (db === `\${env:${source.toUpperCase()}_DB_NAME}` || db === database) found.push({ name, config: cfg });
  }
  return found;
}

async function dropSlot(c: pg.Client, slot: string): Promise<void> {
  if (await dropSlotWhenReleased(c, slot)) log(`✔ replication slot ${slot} dropped`);
}

/** The captured table of each source: what Debezium streams and ClickHouse mirrors. */
const CAPTURED: Record<Source, { table: string; topic: string; tombstones: boolean; spec: typeof USERS }> = {
  crm: { table: 'public.users', topic: 'crm.public.users', tombstones: true, spec: USERS },
  telemetry: { table: 'public.telemetry_events', topic: 'telemetry.public.telemetry_events', tombstones: false, spec: TELEMETRY_EVENTS },
};

/**
 * Rows of the live database that the restored one does not have: the rows created after
 * the backup. Their ids come after the restored sequence's value (which is what the
 * dump holds), so only that tail is read; ids are never reused (see the sequences below).
 * Each comes back as Debezium's row image (to_jsonb in UTC: ISO timestamps with
 * microseconds, numbers as numbers) for the delete events that retire it.
 */
async function rowsOnlyIn(live: pg.Client, restored: pg.Client, table: string): Promise<{ id: number; row: Record<string, unknown> }[]> {
  const [schema, name] = table.split('.') as [string, string];
  const fq = `${quoteIdent(schema)}.${quoteIdent(name)}`;
  const seq = await restored.query<{ seq: string | null }>('SELECT pg_get_serial_sequence($1, $2) AS seq', [fq, 'id']);
  if (!seq.rows[0]!.seq) throw new Error(`${table}.id has no sequence`);
  const from = await restored.query<{ v: string }>(`SELECT last_value::text AS v FROM ${seq.rows[0]!.seq}`);
  const restoredIds = new Set(
    (await restored.query<{ id: string }>(`SELECT id::text AS id FROM ${fq} WHERE id >= $1`, [from.rows[0]!.v])).rows.map((r) => r.id),
  );
  await live.query("SET TIME ZONE 'UTC'");
  const rows = await live.query<{ id: string; row: Record<string, unknown> }>(`SELECT id::text AS id, to_jsonb(t) AS row FROM ${fq} t WHERE id >= $1 ORDER BY id`, [
    from.rows[0]!.v,
  ]);
  return rows.rows.filter((r) => !restoredIds.has(r.id)).map((r) => ({ id: Number(r.id), row: r.row }));
}

/**
 * A delete event as Debezium writes it (JSON, no schema), keyed exactly as Debezium keys
 * the row (`{"id":N}`: same bytes, so the same partition and, in the compacted users
 * topic, the same key to compact), at an LSN of the restored database's server: after
 * every change the old database ever had, so ClickHouse, the stream processor and any
 * replay from the beginning of the topic take the delete as the row's last state.
 */
function deleteEvent(source: Source, table: string, row: Record<string, unknown>, lsn: bigint, database: string) {
  const now = Date.now();
  const [schema, name] = table.split('.');
  return {
    key: Buffer.from(JSON.stringify({ id: row.id })),
    value: Buffer.from(
      JSON.stringify({
        before: row,
        after: null,
        source: { version: 'restore', connector: 'postgresql', name: source, ts_ms: now, snapshot: 'false', db: database, schema, table: name, lsn: Number(lsn) },
        op: 'd',
        ts_ms: now,
        transaction: null,
      }),
    ),
    headers: { 'cdc-restore': 'retired by npm run restore: the row does not exist in the restored database' },
  };
}

async function replacePostgres(config: OpsConfig, dir: string, e: PostgresEntry, wait: boolean): Promise<void> {
  const connect = new ConnectClient(config.KAFKA_CONNECT_URL);
  const live = pgParts(sourceUrl(config, e.source));
  const captured = CAPTURED[e.source];
  const suffix = stamp().toLowerCase();
  const restoring = `${live.database}__restore_${suffix}`;
  const old = `${live.database}__pre_restore_${suffix}`;

  // 1. The dump goes in beside the live database first: a restore that fails leaves the live one untouched.
  await restoreInto(config, dir, e, restoring);

  // 2. Connectors off, with their offsets (else a new registration resumes from an LSN of the
  //    old database's slot) — Connect ≥ 3.6: stop, DELETE …/offsets, delete. From here on no
  //    change of the old database reaches Kafka.
  const connectors = await connectorsOf(connect, config, e.source);
  for (const c of connectors) {
    await timed(`connector ${c.name}: stopped, offsets deleted, removed`, () => connect.deleteWithOffsets(c.name));
  }

  const admin = pgClient(pgParts(sourceUrl(config, e.source), 'postgres'));
  await admin.connect();
  let retired: { id: number; row: Record<string, unknown> }[] = [];
  try {
    // 3. Their replication slots: not in the dump, bound to the old database, and at an LSN
    //    that means nothing for the restored one.
    for (const c of connectors) if (c.config['slot.name']) await dropSlot(admin, c.config['slot.name']);

    // What the old database has and the restored one lacks (Kafka and ClickHouse have it too),
    // and how far its sequences had gone.
    const liveClient = pgClient(live);
    const restoringClient = pgClient({ ...live, database: restoring });
    await liveClient.connect();
    await restoringClient.connect();
    let sequences: { name: string; last_value: string }[];
    try {
      retired = await rowsOnlyIn(liveClient, restoringClient, captured.table);
      sequences = (
        await liveClient.query<{ name: string; last_value: string }>(
          `SELECT format('%I.%I', schemaname, sequencename) AS name, last_value::text FROM pg_sequences WHERE last_value IS NOT NULL`,
        )
      ).rows;
    } finally {
      await liveClient.end();
      await restoringClient.end();
    }

    // 4. Swap by rename: no connection may use either database while it is renamed.
    await timed(`swapped: ${live.database} → ${old}, ${restoring} → ${live.database}`, async () => {
      await admin.query(`ALTER DATABASE ${quoteIdent(live.database)} ALLOW_CONNECTIONS false`);
      for (let i = 0; ; i++) {
        await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [live.database]);
        try {
          await admin.query(`ALTER DATABASE ${quoteIdent(live.database)} RENAME TO ${quoteIdent(old)}`);
          break;
        } catch (err) {
          if (i >= 20) throw err;
          await sleep(250);
        }
      }
      await admin.query(`ALTER DATABASE ${quoteIdent(restoring)} RENAME TO ${quoteIdent(live.database)}`);
    });

    // 5. Sequences never go back: ids handed out after the backup (rows now lost) must not be
    //    given to new rows, or what still refers to them — telemetry events of a lost user, a
    //    message in Kafka, a row in ClickHouse — would silently mean another row.
    const restored = pgClient(live);
    await restored.connect();
    try {
      for (const q of sequences) {
        const exists = await restored.query('SELECT to_regclass($1) IS NOT NULL AS ok', [q.name]);
        if (!exists.rows[0]!.ok) continue;
        const r = await restored.query<{ before: string | null; after: string }>(
          `SELECT (SELECT last_value::text FROM pg_sequences WHERE format('%I.%I', schemaname, sequencename) = $1) AS before,
                  setval($1::regclass, greatest($2::bigint, (SELECT coalesce(last_value, 0) FROM pg_sequences WHERE format('%I.%I', schemaname, sequencename) = $1)))::text AS after`,
          [q.name, q.last_value],
        );
        log(`✔ sequence ${q.name}: ${r.rows[0]!.before ?? 'unused'} in the dump → ${r.rows[0]!.after} (the live database had reached ${q.last_value})`);
      }

      // 6. The rows only the old database had are retired through the pipeline itself: a
      //    delete event each (and a tombstone in the compacted users topic). ClickHouse,
      //    the processor's views and a later rebuild from the topics all drop them; rows
      //    the restored database has come again from the snapshot below, at newer LSNs.
      if (retired.length) {
        const lsn = BigInt((await restored.query<{ lsn: string }>("SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::text AS lsn")).rows[0]!.lsn);
        const kafka = createKafka({ ...kafkaAccess(config), logLevel: 'silent' }, 'cdc-restore');
        const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
        await producer.connect();
        try {
          for (let i = 0; i < retired.length; i += 2000) {
            const slice = retired.slice(i, i + 2000);
            const messages = slice.flatMap(({ row, id }) => [
              deleteEvent(e.source, captured.table, row, lsn, live.database),
              ...(captured.tombstones ? [{ key: Buffer.from(JSON.stringify({ id })), value: null }] : []),
            ]);
            await producer.send({ topic: captured.topic, acks: -1, messages });
          }
        } finally {
          await producer.disconnect();
        }
      }
      log(`✔ ${retired.length} row(s) that exist only after the backup retired: delete events${captured.tombstones ? ' + tombstones' : ''} in ${captured.topic}`);
    } finally {
      await restored.end();
    }
  } finally {
    await admin.end();
  }

  // 7. Registered again from connectors/*.json: no offsets, no slot → initial snapshot of
  //    the restored rows, at LSNs newer than anything the old database wrote.
  const definitions = loadConnectorDefinitions().filter((d) => connectors.some((c) => c.name === d.name));
  for (const def of definitions) await timed(`connector ${def.name} registered, RUNNING (snapshot)`, () => applyConnector(connect, def).then(() => undefined));
  const others = connectors.filter((c) => !definitions.some((d) => d.name === c.name)).map((c) => c.name);
  if (others.length) log(`! not in connectors/: ${others.join(', ')} — register again yourself (e.g. npm run setup:connectors -- --dir connectors/avro)`);
  log(`  previous database kept as ${old} (connections disallowed); drop it when satisfied:  DROP DATABASE "${old}"`);

  if (!wait) return;
  const pool = new pg.Pool({ connectionString: sourceUrl(config, e.source), max: 2 });
  const client = createClient({ url: config.CLICKHOUSE_URL, username: config.CLICKHOUSE_USER, password: config.CLICKHOUSE_PASSWORD });
  try {
    const diff = await timed('PostgreSQL = ClickHouse check', () => waitForEquality(captured.spec, pool, client, 600_000));
    log(`  ${describeDiff(diff)}`);
    if (!isEqual(diff)) throw new Error('ClickHouse did not converge to the restored database within 600 s');
  } finally {
    await pool.end();
    await client.close();
  }
}

// ---------------------------------------------------------------------------------------------
// ClickHouse

/** CREATE statement of `t` under another database name (SHOW CREATE prints the qualified name). */
function createIn(t: ChTableEntry, database: string): string {
  const head = /^(CREATE (?:TABLE|VIEW|MATERIALIZED VIEW|DICTIONARY) )(\S+?)\.(\S+)/;
  if (!head.test(t.create)) throw new Error(`unexpected CREATE statement for ${t.database}.${t.name}: ${t.create.slice(0, 80)}`);
  return t.create.replace(head, (_, kw: string, _db: string, name: string) => `${kw}\`${database}\`.${name}`);
}

async function loadTable(config: OpsConfig, dir: string, t: ChTableEntry, database: string): Promise<void> {
  const ch = clickhouseHttp(config);
  let written = 0;
  for (const f of t.files) written += await ch.importRows(`\`${database}\`.\`${t.name}\``, t.columns, join(dir, f.file));
  if (written !== t.rows) throw new Error(`${database}.${t.name}: ${written} rows written, the backup has ${t.rows}`);
}

async function restoreClickHouseCopy(config: OpsConfig, dir: string, m: Manifest, prefix: string): Promise<void> {
  if (!/^[a-z0-9_]+$/i.test(prefix)) throw new UsageError('--database-prefix: letters, digits and _ only');
  const ch = clickhouseHttp(config);
  const tables = m.clickhouse!.tables.filter((t) => holdsData(t.engine));
  for (const db of m.clickhouse!.databases) {
    const target = `${prefix}${db.name}`;
    const exists = await ch.rows<{ n: number }>(`SELECT count() AS n FROM system.tables WHERE database = '${target}'`);
    if (Number(exists[0]!.n) > 0) throw new Error(`ClickHouse database ${target} exists and has tables; pick another prefix`);
    await ch.command(`CREATE DATABASE IF NOT EXISTS \`${target}\``);
  }
  await timed(`${tables.length} tables restored into ${m.clickhouse!.databases.map((d) => prefix + d.name).join(', ')}`, async () => {
    for (const t of tables) {
      await ch.command(createIn(t, `${prefix}${t.database}`));
      await loadTable(config, dir, t, `${prefix}${t.database}`);
      log(`  ${prefix}${t.database}.${t.name}: ${t.rows} rows`);
    }
  });
}

/** kafka_group_name and kafka_topic_list of a Kafka table's CREATE statement. */
function kafkaSettings(create: string): { group: string; topics: string[] } {
  const group = /kafka_group_name\s*=\s*'([^']+)'/.exec(create)?.[1];
  const topics = /kafka_topic_list\s*=\s*'([^']+)'/.exec(create)?.[1];
  if (!group || !topics) throw new Error(`a Kafka table without kafka_group_name/kafka_topic_list: ${create.slice(0, 120)}`);
  return { group, topics: topics.split(',').map((s) => s.trim()) };
}

async function replaceClickHouse(config: OpsConfig, dir: string, m: Manifest, extraGroups: string[]): Promise<void> {
  if (!m.kafka) throw new Error('the backup has no Kafka offsets (taken with --no-kafka): it cannot be replayed from Kafka');
  const ch = clickhouseHttp(config);
  const all = m.clickhouse!.tables;
  const kafkaTables = all.filter((t) => t.engine === 'Kafka');
  const readsKafka = new Set(kafkaTables.flatMap((t) => t.dependents));
  const fq = (t: ChTableEntry) => `${t.database}.${t.name}`;
  const brokers = (config.CLICKHOUSE_KAFKA_BROKERS ?? config.KAFKA_BROKERS).join(',');

  // 0. The restored ledger must match this checkout's clickhouse/*.sql, or the next
  //    `stack:up` / `setup:clickhouse` refuses to run: check before anything is dropped.
  const local = new Map(loadMigrations().map((x) => [x.version, x]));
  const ledger = m.clickhouse!.migrations ?? [];
  const foreign = ledger.filter((x) => local.get(x.version)?.checksum !== x.checksum);
  if (foreign.length) {
    throw new Error(
      `the backup's schema has migrations this checkout does not (or has changed): ${foreign.map((x) => `${x.version}_${x.name}`).join(', ')}; ` +
        `restore with the code the backup was taken with (manifest gitCommit ${m.gitCommit ?? 'unknown'})`,
    );
  }
  const newer = [...local.keys()].filter((v) => !ledger.some((x) => x.version === v));

  // 1. Whatever is there goes: Kafka tables first, so nothing consumes into half-dropped targets.
  await timed('existing pipeline objects dropped', async () => {
    for (const t of await ch.rows<{ database: string; name: string }>(
      `SELECT database, name FROM system.tables WHERE engine = 'Kafka' AND database IN (${m.clickhouse!.databases.map((d) => `'${d.name}'`).join(', ')})`,
    )) {
      await ch.command(`DROP TABLE IF EXISTS \`${t.database}\`.\`${t.name}\` SYNC`);
    }
    for (const db of m.clickhouse!.databases) {
      if (db.name === 'default') {
        for (const t of all.filter((x) => x.database === 'default')) await ch.command(`DROP TABLE IF EXISTS \`default\`.\`${t.name}\` SYNC`);
      } else {
        await ch.command(`DROP DATABASE IF EXISTS \`${db.name}\` SYNC`);
      }
    }
  });

  // 2. Consumer groups back to where they were when the backup was taken. ClickHouse then
  //    re-reads every change since; ReplacingMergeTree by _lsn (and the processor's versions)
  //    make the ones it already had harmless.
  const groups = [...new Set([...kafkaTables.map((t) => kafkaSettings(t.create).group), ...extraGroups])];
  const admin = kafkaAdmin(config);
  await admin.connect();
  try {
    for (const group of groups) {
      const recorded = m.kafka.groups.find((g) => g.group === group);
      if (!recorded || recorded.offsets.length === 0) {
        log(`! consumer group ${group} had no committed offsets at backup time: left as it is`);
        continue;
      }
      // Retention may have deleted messages the replay needs (telemetry: 7 days): then the
      // changes between the backup and the oldest message left are not in Kafka any more.
      for (const topic of new Set(recorded.offsets.map((o) => o.topic))) {
        const low = new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, BigInt(o.low)]));
        const gone = recorded.offsets.filter((o) => o.topic === topic && BigInt(o.offset) < (low.get(o.partition) ?? 0n));
        if (gone.length) {
          log(
            `! ${topic}: messages after the backup are gone (retention): ${gone.map((o) => `[${o.partition}] ${o.offset} < ${low.get(o.partition)}`).join(', ')} — ` +
              `ClickHouse will miss those changes; re-snapshot the source afterwards (docs/backup-restore.md, A2)`,
          );
        }
      }
      await timed(`consumer group ${group} rewound to ${recorded.offsets.map((o) => `${o.topic}[${o.partition}]@${o.offset}`).join(' ')}`, () =>
        setGroupOffsets(admin, group, recorded.offsets),
      );
    }
  } finally {
    await admin.disconnect();
  }

  // 3. Schema and data, in dependency order: databases, tables (+ rows), views, views fed
  //    by other tables, Kafka tables, and last the views that read Kafka tables — creating
  //    those starts consumption, when every target already exists.
  for (const db of m.clickhouse!.databases) if (db.name !== 'default') await ch.command(db.create);
  await timed(`tables restored with their rows`, async () => {
    for (const t of all.filter((x) => !['Kafka', 'View', 'MaterializedView'].includes(x.engine))) {
      await ch.command(t.create);
      if (holdsData(t.engine)) {
        await loadTable(config, dir, t, t.database);
        log(`  ${fq(t)}: ${t.rows} rows`);
      }
    }
  });
  let views = all.filter((x) => x.engine === 'View');
  for (let pass = 0; views.length && pass < 10; pass++) {
    const left: ChTableEntry[] = [];
    for (const v of views) await ch.command(v.create).catch(() => left.push(v));
    views = left;
  }
  if (views.length) throw new Error(`views that could not be created: ${views.map(fq).join(', ')}`);
  for (const t of all.filter((x) => x.engine === 'MaterializedView' && !readsKafka.has(fq(x)))) await ch.command(t.create);
  for (const t of kafkaTables) {
    await ch.command(t.create.replace(/kafka_broker_list\s*=\s*'[^']*'/, `kafka_broker_list = '${brokers}'`));
  }
  for (const t of all.filter((x) => readsKafka.has(fq(x)))) await ch.command(t.create);
  log(`✔ views and Kafka tables created; ClickHouse consumes from the rewound offsets`);
  if (newer.length) log(`! migrations newer than the backup: ${newer.join(', ')} — apply them now: npm run setup:clickhouse`);
}

// ---------------------------------------------------------------------------------------------

async function main(argv: string[]): Promise<number> {
  loadDotEnv();
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      into: { type: 'string' },
      replace: { type: 'boolean' },
      'database-prefix': { type: 'string' },
      groups: { type: 'string' },
      'no-wait': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    log(USAGE);
    return 0;
  }
  const [command, backup, source] = positionals;
  if (!command || !backup) throw new UsageError('a command and a backup directory are required');
  const dir = resolve(backup);
  if (!existsSync(dir) || !readdirSync(dir).includes('manifest.json')) throw new UsageError(`${dir} is not a backup directory (no manifest.json)`);
  const m = readManifest(dir);
  const config = loadOpsConfig();
  log(`backup ${dir}: taken ${m.startedAt} – ${m.finishedAt} on ${m.host}${m.gitCommit ? `, commit ${m.gitCommit.slice(0, 10)}` : ''}`);

  switch (command) {
    case 'verify':
      await verify(dir, m, config);
      return 0;
    case 'postgres': {
      if (!SOURCES.includes(source as Source)) throw new UsageError(`postgres needs crm or telemetry, not ${source ?? 'nothing'}`);
      const e = pgEntry(m, source as Source);
      await verify(dir, { ...m, postgres: [e], clickhouse: undefined }, config);
      if (values.into && !values.replace) {
        if (!/^[a-z0-9_]+$/.test(values.into)) throw new UsageError('--into: lower-case letters, digits and _ only');
        await restoreInto(config, dir, e, values.into);
      } else if (values.replace && !values.into) {
        await replacePostgres(config, dir, e, !values['no-wait']);
      } else {
        throw new UsageError('postgres needs exactly one of --into <database> or --replace');
      }
      return 0;
    }
    case 'clickhouse': {
      if (!m.clickhouse) throw new Error('the backup has no ClickHouse part');
      await verify(dir, { ...m, postgres: [] }, config);
      if (values['database-prefix'] && !values.replace) {
        await restoreClickHouseCopy(config, dir, m, values['database-prefix']);
      } else if (values.replace && !values['database-prefix']) {
        await replaceClickHouse(config, dir, m, (values.groups ?? '').split(',').map((s) => s.trim()).filter(Boolean));
      } else {
        throw new UsageError('clickhouse needs exactly one of --database-prefix <p> or --replace');
      }
      return 0;
    }
    default:
      throw new UsageError(`unknown command ${command}`);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`${(err as Error).message}\n${USAGE}`);
      process.exit(2);
    }
    console.error(`✘ ${(err as Error).message}`);
    process.exit(1);
  },
);
