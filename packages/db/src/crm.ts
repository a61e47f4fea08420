import type pg from 'pg';
import { PrismaClient } from './generated/crm/client.js';
import { createPool, FixedPrismaPg } from './pg-adapter.js';

export * from './generated/crm/client.js';

export interface CrmDb {
  prisma: PrismaClient;
  /** The pool under Prisma: raw SQL for bulk paths, and pool metrics. */
  pool: pg.Pool;
  close(): Promise<void>;
}

export function createCrmDb(url: string, poolConfig: pg.PoolConfig = {}): CrmDb {
  const pool = createPool(url, poolConfig);
  const prisma = new PrismaClient({ adapter: new FixedPrismaPg(pool) });
  return {
    prisma,
    pool,
    async close() {
      await prisma.$disconnect();
      await pool.end();
    },
  };
}
