import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Component, Health } from './component.js';
import type { StackConfig } from './config.js';
import { PostgresCluster } from './components/postgres.js';
import { KafkaBroker } from './components/kafka.js';
import { KafkaConnect } from './components/connect.js';
import { SchemaRegistry } from './components/schema-registry.js';
import { NodeService } from './components/node-service.js';
import { ExternalClickHouse } from './components/external-clickhouse.js';
import { buildConsoleWeb, consoleToken } from './console.js';
import { provision } from './provision.js';
import { PRINCIPAL_PASSWORD_VARS, type Principal } from './kafka-acl.js';
import { processTable, StackError, treeRssKb, waitFor } from './proc.js';

/**
 * The components in start order: infrastructure before apps (deployment guide),
 * and within infrastructure each after what it depends on (Connect needs Kafka;
 * nothing needs Connect to be up before ClickHouse, but the order keeps logs readable).
 */
export const STREAM_PROCESSOR_HEAP = '--max-old-space-size=160';
export const CONSOLE_HEAP = '--max-old-space-size=96';
/** With the stack's registry, enriched events also go to Kafka in Avro. */
export const STREAM_PROCESSOR_ENV = { STREAM_PROCESSOR_OUTPUT_TOPIC: 'analytics.telemetry_enriched' };

/** An app's Kafka login: its own principal, whose ACLs allow only what it does (kafka-acl.ts). */
const kafkaLogin = (config: StackConfig, principal: Principal) => ({
  KAFKA_USER: principal,
  KAFKA_PASSWORD: config.env[PRINCIPAL_PASSWORD_VARS[principal]],
});

export function components(config: StackConfig): Component[] {
  const ch = config.clickhouse;
  const clickhouse: Component = ch.embedded
    ? new NodeService(
        {
          name: 'clickhouse',
          tier: 'infrastructure',
          entry: 'apps/chdb-server/src/main.ts',
          host: ch.url.hostname,
          port: Number(ch.url.port || 8123),
          // A query, not /ping: /ping answered `Ok.` while every query waited behind a
          // hung mutation (docs/operations.md §4.7). As the pipeline's user, whose
          // queries no analyst can hold up.
          healthPath: '/?query=SELECT%201',
          healthHeaders: {
            'X-ClickHouse-User': config.env.CLICKHOUSE_USER,
            'X-ClickHouse-Key': config.env.CLICKHOUSE_PASSWORD,
          },
          expectBody: (b) => b === '1\n',
          env: {
            CHDB_DATA_PATH: ch.dataDir,
            CLICKHOUSE_HTTP_HOST: ch.url.hostname,
            CLICKHOUSE_HTTP_PORT: ch.url.port || '8123',
            CHDB_USERS_FILE: join(config.root, 'clickhouse', 'users.yaml'),
            CHDB_CONFIG_FILE: join(config.root, 'clickhouse', 'config.d', 'kafka.xml'),
            KAFKA_CLICKHOUSE_PASSWORD: config.env.KAFKA_CLICKHOUSE_PASSWORD,
            // libuv's worker threads are the engine's lanes (apps/chdb-server/src/main.ts).
            UV_THREADPOOL_SIZE: '64',
            CLICKHOUSE_PASSWORD: config.env.CLICKHOUSE_PASSWORD,
            CLICKHOUSE_ANALYST_PASSWORD: config.env.CLICKHOUSE_ANALYST_PASSWORD,
          },
          timeoutS: config.env.STACK_WAIT_CLICKHOUSE_S,
        },
        config,
      )
    : new ExternalClickHouse(config);

  const app = (name: string, port: number, nodeArgs: string[] = [], env: Record<string, string> = {}, prepare?: () => Promise<void>) =>
    new NodeService(
      {
        name,
        nodeArgs,
        tier: 'apps',
        entry: `apps/${name}/src/main.ts`,
        host: '127.0.0.1',
        port,
        healthPath: '/health',
        env,
        timeoutS: config.env.STACK_WAIT_APP_S,
        ...(prepare && { prepare }),
      },
      config,
    );

  const consoleEnv: Record<string, string> = kafkaLogin(config, 'console');
  return [
    ...config.postgres.map((c) => new PostgresCluster(c, config)),
    new KafkaBroker(config),
    new SchemaRegistry(config),
    new KafkaConnect(config),
    clickhouse,
    // Its erasure (POST /users/{id}/erase) writes tombstones for the erased user's key.
    app('crm-api', config.env.CRM_API_PORT, [], kafkaLogin(config, 'eraser')),
    app('telemetry-api', config.env.TELEMETRY_API_PORT),
    // A V8 heap limit keeps the processor inside its memory budget (256 MB RSS under
    // load, measured by npm run bench:processor); without it V8 grows the heap lazily.
    app('stream-processor', config.env.STREAM_PROCESSOR_PORT, [STREAM_PROCESSOR_HEAP], {
      ...STREAM_PROCESSOR_ENV,
      ...kafkaLogin(config, 'processor'),
    }),
    // The heap limit keeps the console under its 200 MB budget (npm run bench:console).
    // Its token is read (or made) when it is about to start, not whenever the list is built.
    app('console', config.env.CONSOLE_PORT, [CONSOLE_HEAP], consoleEnv, async () => {
      consoleEnv.CONSOLE_TOKEN = consoleToken(config);
      buildConsoleWeb(config.root);
    }),
  ];
}

export type Tier = Component['tier'];

export interface UpReport {
  name: string;
  action: 'already running' | 'started';
  seconds: number;
}

/** Brings the selected tiers up in order; a second call finds everything healthy and does nothing. */
export async function up(
  config: StackConfig,
  tiers: Tier[] = ['infrastructure', 'apps'],
  log: (line: string) => void = () => {},
): Promise<UpReport[]> {
  const report: UpReport[] = [];
  for (const tier of ['infrastructure', 'apps'] as const) {
    if (!tiers.includes(tier)) continue;
    for (const c of components(config).filter((c) => c.tier === tier)) {
      report.push(await bringUp(c, log));
    }
    // Schemas exist before any app starts (and before tests use the databases).
    if (tier === 'infrastructure') await provision(config, log);
  }
  return report;
}

async function bringUp(c: Component, log: (line: string) => void): Promise<UpReport> {
  const t0 = Date.now();
  await c.install();
  const before = await c.health();
  let action: UpReport['action'] = 'already running';
  if (!before.ok) {
    if (c.pid() === undefined) {
      log(`starting ${c.name} (${c.address})…`);
      await c.start();
      action = 'started';
    }
  }
  // Idempotent post-start work (databases, topics) is retried until the component
  // settles, so a process that was still booting from an earlier call is waited for.
  await waitFor(
    c.name,
    async () => {
      await c.afterStart?.();
      const h = await c.health();
      if (!h.ok) throw new Error(h.detail);
      return true;
    },
    { timeoutS: 60, logFile: c.logFile },
  );
  const seconds = (Date.now() - t0) / 1000;
  log(`${action === 'started' ? '✔ started' : '= running'}  ${c.name.padEnd(18)} ${c.address}  (${seconds.toFixed(1)}s)`);
  return { name: c.name, action, seconds };
}

/** Stops in reverse start order: apps first, so nothing writes into a stopping broker. */
export async function down(config: StackConfig, log: (line: string) => void = () => {}): Promise<void> {
  const failures: Error[] = [];
  for (const c of components(config).reverse()) {
    try {
      const result = await c.stop();
      log(`${c.name.padEnd(18)} ${result}`);
    } catch (err) {
      failures.push(err as Error);
      log(`${c.name.padEnd(18)} FAILED: ${(err as Error).message}`);
    }
  }
  if (failures.length > 0) throw new StackError('stack', `${failures.length} component(s) did not stop cleanly`);
}

export interface StatusLine {
  name: string;
  tier: Tier;
  address: string;
  pid: number | undefined;
  health: Health;
  /** Resident memory of the process tree, KiB; undefined when not running. */
  rssKb: number | undefined;
  logFile: string;
}

export async function status(config: StackConfig): Promise<StatusLine[]> {
  const table = await processTable();
  return Promise.all(
    components(config).map(async (c) => {
      const pid = c.pid();
      return {
        name: c.name,
        tier: c.tier,
        address: c.address,
        pid,
        health: await c.health(),
        rssKb: pid === undefined ? undefined : treeRssKb(table, pid),
        logFile: c.logFile,
      };
    }),
  );
}

/** Deletes all data (databases, topics, ClickHouse tables); downloads in the cache are kept. */
export async function reset(config: StackConfig, log: (line: string) => void = () => {}): Promise<void> {
  await down(config, log);
  for (const dir of ['postgres-crm', 'postgres-telemetry', 'kafka', 'schema-registry', 'connect', 'clickhouse', 'logs', 'run']) {
    rmSync(`${config.stateDir}/${dir}`, { recursive: true, force: true });
  }
  log(`removed data under ${config.stateDir} (cache kept)`);
}

/**
 * Stops one component (gracefully; killed only if it does not stop in time) and
 * brings it up again, waiting for health: how new code of an app is deployed, or a
 * wedged process recovered, without touching the rest of the stack.
 */
export async function restartComponent(config: StackConfig, name: string, log: (line: string) => void = () => {}): Promise<UpReport> {
  const c = componentNamed(config, name);
  log(`${c.name.padEnd(18)} ${await c.stop()}`);
  return bringUp(c, log);
}

/** Stops one component; `up` (or `restart`) brings it back. */
export async function stopComponent(config: StackConfig, name: string, log: (line: string) => void = () => {}): Promise<void> {
  const c = componentNamed(config, name);
  log(`${c.name.padEnd(18)} ${await c.stop()}`);
}

function componentNamed(config: StackConfig, name: string | undefined): Component {
  const all = components(config);
  const c = all.find((x) => x.name === name);
  if (!c) throw new StackError('stack', `unknown component "${name ?? ''}"; one of: ${all.map((x) => x.name).join(', ')}`);
  return c;
}

/**
 * Stops one component if it runs and returns how to bring it back: starting that
 * component alone, not a whole `up` (which would also provision everything again).
 * For tests and benchmarks that need a component out of the way for a while.
 */
export async function pauseComponent(config: StackConfig, name: string): Promise<{ wasRunning: boolean; resume: () => Promise<void> }> {
  const c = componentNamed(config, name);
  if (c.pid() === undefined) return { wasRunning: false, resume: async () => {} };
  await c.stop();
  return { wasRunning: true, resume: () => c.start() };
}

