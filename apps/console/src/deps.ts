import type { ClickHouseClient } from '@clickhouse/client';
import type { Admin } from 'kafkajs';
import type pg from 'pg';
import type { Logger } from 'pino';
import { createClickHouse } from '@cdc/clickhouse';
import { ConnectClient } from '@cdc/connect';
import { createPool } from '@cdc/db';
import { createKafka, createRegistryDecoder, PartitionReader, type RegistryDecoder } from '@cdc/kafka';
import type { Config } from './config.js';

/** One client per server the console talks to, built once here and passed to every route. */
export interface Deps {
  config: Config;
  log: Logger;
  /** Connected lazily: the console starts (and shows Kafka as down) while Kafka is down. */
  admin(): Promise<Admin>;
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
  const kafka = createKafka({ brokers: e.KAFKA_BROKERS, logLevel: 'silent' }, 'cdc-console');
  const admin = kafka.admin();
  let connected: Promise<Admin> | undefined;
  const pool = (url: string) => createPool(url, { max: 4, application_name: 'cdc-console', query_timeout: 10_000 });
  const deps: Deps = {
    config,
    log,
    admin: () =>
      (connected ??= admin.connect().then(
        () => admin,
        (err: unknown) => {
          connected = undefined;
          throw err;
        },
      )),
    reader: new PartitionReader({ brokers: e.KAFKA_BROKERS, clientId: 'cdc-console' }),
    registry: config.schemaRegistryUrl ? createRegistryDecoder(config.schemaRegistryUrl) : undefined,
    connect: new ConnectClient(e.KAFKA_CONNECT_URL),
    pg: { crm: pool(e.CRM_DATABASE_URL), telemetry: pool(e.TELEMETRY_DATABASE_URL) },
    ch: createClickHouse(e, 'pipeline', { requestTimeoutMs: 15_000, application: 'cdc-console' }),
    analyst: createClickHouse(e, 'analyst', { requestTimeoutMs: 120_000, application: 'cdc-console' }),
    async close() {
      await Promise.allSettled([
        connected ? admin.disconnect() : undefined,
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
