import type pg from 'pg';
import { PrismaClient } from './generated/crm/client.js';
import { createDb, type Db } from './db.js';

export * from './generated/crm/client.js';

export type CrmDb = Db<PrismaClient>;

export function createCrmDb(url: string, poolConfig: pg.PoolConfig = {}): CrmDb {
  return createDb((adapter) => new PrismaClient({ adapter }), url, poolConfig);
}
