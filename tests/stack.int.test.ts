import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import pg from 'pg';
import { Kafka, logLevel } from 'kafkajs';
import { createKafka, kafkaAccess } from '@cdc/kafka';
import { createClient } from '@clickhouse/client';
import { loadStackConfig } from '../scripts/stack/config.js';
import { down, status, up } from '../scripts/stack/stack.js';
import { deleteTestGroups, testGroupId } from './support/kafka-groups.js';

/**
 * The native stack's promises: `up` is idempotent, `status` reports every component
 * with its address, and `down` + `up` keeps the data of PostgreSQL, Kafka and ClickHouse.
 */
const config = loadStackConfig();
const infra = ['infrastructure'] as const;
const env = config.env;

describe('native stack lifecycle', () => {
  it('a second up is a no-op', async () => {
    const report = await up(config, [...infra]);
    expect(report.map((r) => r.name)).toEqual([
      'postgres-crm', 'postgres-telemetry', 'kafka', 'schema-registry', 'kafka-connect', 'clickhouse',
    ]);
    for (const r of report) expect(r.action, r.name).toBe('already running');
  });

  it('status shows every infrastructure component healthy with its address and pid', async () => {
    const lines = (await status(config)).filter((s) => s.tier === 'infrastructure');
    for (const s of lines) {
      expect(s.health.ok, `${s.name}: ${s.health.detail}`).toBe(true);
      expect(s.address).toMatch(/127\.0\.0\.1:\d+/);
      if (config.clickhouse.embedded || s.name !== 'clickhouse') expect(s.pid, s.name).toBeGreaterThan(0);
    }
  });

  it('restart <name> replaces one process and waits for its health; an unknown name lists the real ones', async () => {
    const cli = (...args: string[]) =>
      spawnSync('npx', ['tsx', 'scripts/stack/cli.ts', ...args], { cwd: config.root, encoding: 'utf8', timeout: 120_000 });
    const pidOf = async (name: string) => (await status(config)).find((s) => s.name === name)!;
    const before = await pidOf('schema-registry');
    expect(before.health.ok).toBe(true);
    const r = cli('restart', 'schema-registry');
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/schema-registry +stopped[\s\S]*✔ started +schema-registry/);
    const after = await pidOf('schema-registry');
    expect(after.health.ok, after.health.detail).toBe(true);
    expect(after.pid).not.toBe(before.pid);
    // Every other component kept its process.
    const others = (await status(config)).filter((s) => s.tier === 'infrastructure' && s.name !== 'schema-registry');
    for (const s of others) expect(s.health.ok, s.name).toBe(true);

    const bad = cli('restart', 'kafak');
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/unknown component "kafak"; one of: postgres-crm, .*kafka,/);
  });

  it('down then up keeps the data', async () => {
    const marker = randomUUID();
    const topic = 'crm.public.users.dlq'; // an existing pipeline topic; a marker message is harmless there
    const ch = createClient({ url: env.CLICKHOUSE_URL, username: env.CLICKHOUSE_USER, password: env.CLICKHOUSE_PASSWORD });
    const kafka = createKafka({ ...kafkaAccess(env), logLevel: 'silent' }, 'stack-test');

    for (const url of [env.CRM_DATABASE_URL, env.TELEMETRY_DATABASE_URL]) {
      const db = new pg.Client({ connectionString: url });
      await db.connect();
      // A schema of its own: `public` belongs to the product's migrations.
      await db.query('CREATE SCHEMA IF NOT EXISTS stack_check');
      await db.query('CREATE TABLE IF NOT EXISTS stack_check.persistence (marker text PRIMARY KEY)');
      await db.query('INSERT INTO stack_check.persistence VALUES ($1)', [marker]);
      await db.end();
    }
    await ch.command({ query: 'CREATE DATABASE IF NOT EXISTS stack_check' });
    await ch.command({ query: 'CREATE TABLE IF NOT EXISTS stack_check.persistence (marker String) ENGINE = MergeTree ORDER BY marker' });
    await ch.insert({ table: 'stack_check.persistence', values: [{ marker }], format: 'JSONEachRow' });
    await ch.close();
    // A schema in the registry: Avro messages in Kafka carry its id, so it must survive.
    const subject = `stack-check-${marker}-value`;
    const schema = JSON.stringify({ type: 'record', name: 'StackCheck', fields: [{ name: 'marker', type: 'string' }] });
    const registered = await fetch(new URL(`subjects/${subject}/versions`, `${env.SCHEMA_REGISTRY_URL}/`), {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
      body: JSON.stringify({ schema }),
    });
    expect(registered.status).toBe(200);
    const { id } = (await registered.json()) as { id: number };

    const producer = kafka.producer();
    await producer.connect();
    const [sent] = await producer.send({ topic, messages: [{ key: 'stack-test', value: marker, headers: { test: 'stack-persistence' } }] });
    await producer.disconnect();

    await down(config);
    const stopped = await status(config);
    for (const s of stopped.filter((x) => x.tier === 'infrastructure' && (config.clickhouse.embedded || x.name !== 'clickhouse'))) {
      expect(s.health.ok, `${s.name} should be down`).toBe(false);
      expect(s.pid, `${s.name} pid`).toBeUndefined();
    }

    const report = await up(config, [...infra]);
    for (const r of report.filter((x) => config.clickhouse.embedded || x.name !== 'clickhouse')) {
      expect(r.action, r.name).toBe('started');
    }

    for (const url of [env.CRM_DATABASE_URL, env.TELEMETRY_DATABASE_URL]) {
      const db = new pg.Client({ connectionString: url });
      await db.connect();
      const r = await db.query('SELECT 1 FROM stack_check.persistence WHERE marker = $1', [marker]);
      expect(r.rowCount, url).toBe(1);
      await db.end();
    }

    const ch2 = createClient({ url: env.CLICKHOUSE_URL, username: env.CLICKHOUSE_USER, password: env.CLICKHOUSE_PASSWORD });
    const rs = await ch2.query({
      query: 'SELECT count() AS n FROM stack_check.persistence WHERE marker = {m:String}',
      query_params: { m: marker },
      format: 'JSONEachRow',
    });
    expect((await rs.json<{ n: number | string }>()).map((r) => Number(r.n))).toEqual([1]);
    await ch2.close();

    const again = await fetch(new URL(`schemas/ids/${id}`, `${env.SCHEMA_REGISTRY_URL}/`));
    expect(again.status).toBe(200);
    expect(JSON.parse(((await again.json()) as { schema: string }).schema)).toEqual(JSON.parse(schema));
    await fetch(new URL(`subjects/${subject}`, `${env.SCHEMA_REGISTRY_URL}/`), { method: 'DELETE' });

    // The exact message is still at its offset after the broker restart.
    const consumer = kafka.consumer({ groupId: testGroupId('stack-test') });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const found = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('marker message not found after restart')), 60_000);
      void consumer.run({
        eachMessage: async ({ partition, message }) => {
          if (partition === sent!.partition && message.offset === sent!.baseOffset) {
            clearTimeout(timer);
            resolve(message.value!.toString());
          }
        },
      });
    });
    await consumer.disconnect();
    await deleteTestGroups(kafkaAccess(env));
    expect(found).toBe(marker);
  });
});
