import pg from 'pg';
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { loadDotEnv, loadEndpoints } from '@cdc/config';
import { loadStackConfig } from '../../scripts/stack/config.js';
import { components, up } from '../../scripts/stack/stack.js';
import { dropSlotWhenReleased } from '@cdc/db/slots';
import { applyConnector, ConnectClient, loadConnectorDefinitions, type ConnectorDefinition } from '../../scripts/lib/connectors.js';

loadDotEnv();
export const env = loadEndpoints();
export const connect = new ConnectClient(env.KAFKA_CONNECT_URL);

export function clickhouse(): ClickHouseClient {
  return createClient({ url: env.CLICKHOUSE_URL, username: env.CLICKHOUSE_USER, password: env.CLICKHOUSE_PASSWORD });
}

export function pools(): { crm: pg.Pool; telemetry: pg.Pool } {
  const pool = (connectionString: string) =>
    // An idle client whose server was killed (the fault suite does that) emits 'error'
    // on the pool; unhandled it would end the test process. The pool replaces it.
    new pg.Pool({ connectionString, max: 4 }).on('error', () => {});
  return { crm: pool(env.CRM_DATABASE_URL), telemetry: pool(env.TELEMETRY_DATABASE_URL) };
}

export function connector(name: 'crm-connector' | 'telemetry-connector'): ConnectorDefinition {
  const def = loadConnectorDefinitions().find((d) => d.name === name);
  if (!def) throw new Error(`connectors/${name}.json is missing`);
  return def;
}

export async function until<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 60_000, everyMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export { dropSlotWhenReleased };

/**
 * Removes a connector as if it had never been registered: the connector, its
 * offsets and its replication slot. Registering it again then starts with a snapshot.
 */
export async function unregister(def: ConnectorDefinition, pool: pg.Pool): Promise<void> {
  await connect.deleteWithOffsets(def.name);
  await dropSlotWhenReleased(pool, def.config['slot.name']!);
}

export { applyConnector };

/** kill -9 of the stack's Kafka Connect, then the stack brings it back (and re-applies the connectors). */
export async function killAndRestartConnect(): Promise<{ downMs: number }> {
  const config = loadStackConfig();
  const c = components(config).find((x) => x.name === 'kafka-connect')!;
  const pid = c.pid();
  if (pid === undefined) throw new Error('Kafka Connect is not running');
  const t0 = Date.now();
  process.kill(pid, 'SIGKILL');
  await until('Kafka Connect to die', async () => c.pid() === undefined, 10_000);
  await up(config, ['infrastructure']);
  return { downMs: Date.now() - t0 };
}
