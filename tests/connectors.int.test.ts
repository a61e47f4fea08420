import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { connect, connector, pools } from './support/cdc.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const db = pools();

function setup(...args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'scripts/setup_debezium_connectors.ts', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 180_000,
  });
}

const BROKEN = 'broken-check-connector';
let brokenDir: string | undefined;

afterAll(async () => {
  await connect.delete(BROKEN).catch(() => {});
  await db.crm.query('DROP PUBLICATION IF EXISTS no_such_publication').catch(() => {});
  // The slot stays active for a moment after the connector is deleted.
  for (let i = 0; i < 20; i++) {
    const { rowCount } = await db.crm.query("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = 'broken_check' AND NOT active").catch(() => ({ rowCount: 0 }));
    const left = await db.crm.query("SELECT 1 FROM pg_replication_slots WHERE slot_name = 'broken_check'");
    if (rowCount || left.rowCount === 0) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  await Promise.all([db.crm.end(), db.telemetry.end()]);
});

describe('npm run setup:connectors', () => {
  it('applies connectors/*.json idempotently: both RUNNING, again and again', () => {
    for (let i = 0; i < 2; i++) {
      const r = setup();
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/✔ crm-connector\s+RUNNING/);
      expect(r.stdout).toMatch(/✔ telemetry-connector\s+RUNNING/);
    }
  }, 240_000);

  it('exits non-zero with the failed task\'s stack trace when a connector cannot run', async () => {
    // Valid enough to be accepted, but its publication does not exist and may not be created.
    const base = connector('crm-connector');
    const dir = mkdtempSync(path.join(tmpdir(), 'connectors-'));
    brokenDir = dir;
    writeFileSync(
      path.join(dir, 'broken.json'),
      JSON.stringify({
        name: BROKEN,
        config: {
          ...base.config,
          'topic.prefix': 'broken',
          'slot.name': 'broken_check',
          'publication.name': 'no_such_publication',
          'publication.autocreate.mode': 'disabled',
          'snapshot.mode': 'no_data',
        },
      }),
    );
    const r = setup('--dir', dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`✘ ${BROKEN}: .*FAILED`));
    expect(r.stderr).toMatch(/no_such_publication|publication/i);
    expect(r.stderr).toMatch(/\n\s+at /); // a Java stack trace
  }, 240_000);

  it('restarts a connector repaired after FAILED and reports RUNNING in the same run (not the stale failure)', async () => {
    expect(brokenDir, 'runs after the failing case').toBeDefined();
    // The repair: the publication the connector names now exists.
    await db.crm.query('CREATE PUBLICATION no_such_publication FOR TABLE public.users');
    const r = setup('--dir', brokenDir!);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`✔ ${BROKEN}\\s+RUNNING`));
    await connect.delete(BROKEN);
  }, 240_000);
});
