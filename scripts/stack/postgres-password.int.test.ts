import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../lib/net.js';
import { PostgresCluster } from './components/postgres.js';
import { loadStackConfig } from './config.js';

/**
 * A cluster of its own (a free port, a scratch state directory): the stack sets the
 * role's password to the one in the database URL at every start, so a cluster made
 * with another password (before passwords were generated, or before .env changed)
 * comes up with the new one and refuses the old.
 */
const dir = mkdtempSync(join(tmpdir(), 'pg-password-'));
let running: PostgresCluster | undefined;
afterAll(async () => {
  await running?.stop().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

async function connects(url: string): Promise<boolean> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await c.connect();
    await c.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => undefined);
  }
}

describe('PostgreSQL passwords', () => {
  it('follows the password in the database URL from one start to the next', async () => {
    const port = await freePort();
    const url = (password: string) => `postgresql://postgres:${password}@127.0.0.1:${port}/scratch_db`;
    const cluster = (password: string) => {
      const config = loadStackConfig({ ...process.env, STACK_DIR: dir, CRM_DATABASE_URL: url(password) });
      return new PostgresCluster(config.postgres[0]!, config);
    };

    running = cluster('first-secret');
    await running.install();
    await running.start();
    await running.afterStart();
    expect(await connects(url('first-secret'))).toBe(true);
    await running.stop();

    running = cluster('second-secret');
    await running.start();
    await running.afterStart();
    expect((await running.health()).ok).toBe(true);
    expect(await connects(url('second-secret'))).toBe(true);
    expect(await connects(url('first-secret'))).toBe(false);
  }, 120_000);
});
