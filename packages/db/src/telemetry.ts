import type pg from 'pg';
import { PrismaClient } from './generated/telemetry/client.js';
import { createDb, type Db } from './db.js';

export * from './generated/telemetry/client.js';

export type TelemetryDb = Db<PrismaClient>;

export function createTelemetryDb(url: string, poolConfig: pg.PoolConfig = {}): TelemetryDb {
  return createDb((adapter) => new PrismaClient({ adapter }), url, poolConfig);
}
