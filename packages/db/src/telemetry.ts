import type pg from 'pg';
import { PrismaClient } from './generated/telemetry/client.js';
import { createPool, FixedPrismaPg } from './pg-adapter.js';

export * from './generated/telemetry/client.js';

export interface TelemetryDb {
  prisma: PrismaClient;
  /** The pool under Prisma: raw SQL for bulk paths, and pool metrics. */
  pool: pg.Pool;
  close(): Promise<void>;
}

export function createTelemetryDb(url: string, poolConfig: pg.PoolConfig = {}): TelemetryDb {
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
