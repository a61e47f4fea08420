import { join } from 'node:path';
import type { StackConfig } from './config.js';
import { run } from './proc.js';

/**
 * What must exist before the apps start, applied idempotently after the
 * infrastructure is healthy: the PostgreSQL schemas (Prisma migrations, both
 * databases). Each step is safe to repeat; `up` runs them every time.
 */
export async function provision(config: StackConfig, log: (line: string) => void): Promise<void> {
  const t0 = Date.now();
  await run('migrations', process.execPath, ['--import', 'tsx', join(config.root, 'scripts/prisma-db.ts'), 'deploy'], {
    cwd: config.root,
    env: {
      ...process.env,
      CRM_DATABASE_URL: config.env.CRM_DATABASE_URL,
      TELEMETRY_DATABASE_URL: config.env.TELEMETRY_DATABASE_URL,
      CHECKPOINT_DISABLE: '1',
    },
  });
  log(`✔ applied  ${'migrations'.padEnd(18)} crm_db, telemetry_db  (${((Date.now() - t0) / 1000).toFixed(1)}s)`);
}
