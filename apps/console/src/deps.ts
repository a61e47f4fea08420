import type { ClickHouseClient } from '@clickhouse/client';
import type { Admin } from 'kafkajs';
import type pg from 'pg';
import type { Logger } from 'pino';
import { createClickHouse } from '@cdc/clickhouse';
import { ConnectClient } from '@cdc/connect';
import { createPool } from '@cdc/db';
import { createKafka, createRegistryDecoder, kafkaAccess, PartitionReader, type RegistryDecoder } from '@cdc/kafka';
import type { Config } from './config.js';
import { unknownTopic } from './errors.js';

/** One client per server the console talks to, built once here and passed to every route. */
export interface Deps {
  config: Config;
  log: Logger;
  /**
   * Runs `fn` with the Kafka admin client, connected lazily (the console starts, and
   * shows Kafka as down, while Kafka is down). kafkajs refreshes metadata for every
   * topic it ever looked at, and one of them deleted (or not created yet) fails every
   * later call with UNKNOWN_TOPIC_OR_PARTITION; then the admin is replaced by a new one
   * and `fn` runs once more.
   */
  withAdmin<T>(fn: (admin: Admin) => Promise<T>): Promise<T>;
  reader: PartitionReader;
  registry: RegistryDecoder | undefined;
  connect: ConnectClient;
  pg: { crm: pg.Pool; telemetry: pg.Pool };
  /** Reads the pipeline's own tables (trace, rows, overview). */
  ch: ClickHouseClient;
  /** The SQL page: read-only, bounded (clickhouse/users.yaml). */
  analyst: ClickHouseClient;
  close(): Promise<void>;
}

export function createDeps(config: Config, log: Logger): Deps {
  const e = config.endpoints;
  const kafka = createKafka({ ...kafkaAccess(e), logLevel: 'silent' }, 'cdc-console');
  let connected: Promise<Admin> | undefined;
  const admin = (): Promise<Admin> => {
    if (connected) return connected;
    const a = kafka.admin();
    const p = a.connect().then(
      () => a,
      (err: unknown) => {
        if (connected === p) connected = undefined;
        throw err;
      },
    );
    return (connected = p);
  };
  const replaceAdmin = (stale: Promise<Admin>) => {
    if (connected !== stale) return;
    connected = undefined;
    void stale.then((a) => a.disconnect()).catch(() => {});
  };
  const pool = (url: string) => createPool(url, { max: 4, application_name: 'cdc-console', query_timeout: 10_000 });
  const deps: Deps = {
    config,
    log,
    async withAdmin(fn) {
      const current = admin();
      try {
        return await fn(await current);
      } catch (err) {
        if (!unknownTopic(err)) throw err;
        replaceAdmin(current);
        return fn(await admin());
      }
    },
    reader: new PartitionReader({ ...kafkaAccess(e), clientId: 'cdc-console' }),
    registry: config.schemaRegistryUrl ? createRegistryDecoder(config.schemaRegistryUrl) : undefined,
    connect: new ConnectClient(e.KAFKA_CONNECT_URL),
    pg: { crm: pool(e.CRM_DATABASE_URL), telemetry: pool(e.TELEMETRY_DATABASE_URL) },
    ch: createClickHouse(e, 'pipeline', { requestTimeoutMs: 15_000, application: 'cdc-console' }),
    analyst: createClickHouse(e, 'analyst', { requestTimeoutMs: 120_000, application: 'cdc-console' }),
    async close() {
      await Promise.allSettled([
        connected?.then((a) => a.disconnect()),
        deps.reader.disconnect(),
        deps.pg.crm.end(),
        deps.pg.telemetry.end(),
        deps.ch.close(),
        deps.analyst.close(),
      ]);
    },
  };
  return deps;
}

