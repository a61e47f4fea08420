import type pg from 'pg';
import { createPool, FixedPrismaPg } from './pg-adapter.js';

export interface Db<C> {
  prisma: C;
  /** The pool under Prisma: raw SQL for bulk paths, and pool metrics. */
  pool: pg.Pool;
  close(): Promise<void>;
}

/** A Prisma client of either database on its own bounded pool (see createPool). */
export function createDb<C extends { $disconnect(): Promise<void> }>(
  makeClient: (adapter: FixedPrismaPg) => C,
  url: string,
  poolConfig: pg.PoolConfig = {},
): Db<C> {
  const pool = createPool(url, poolConfig);
  const prisma = makeClient(new FixedPrismaPg(pool));
  return {
    prisma,
    pool,
    async close() {
      await prisma.$disconnect();
      await pool.end();
    },
  };
}
