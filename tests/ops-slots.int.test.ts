import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../scripts/lib/net.js';
import type { Report } from '../scripts/ops/slots-core.js';
import { connect, env, pools, until } from './support/cdc.js';
import { runScript, type ScriptRun } from './support/run-script.js';

/**
 * `npm run ops:slots` against the stack's real replication slots. The crm-connector
 * is paused (its slot stays active, the retained WAL grows) and then stopped (the slot
 * goes inactive) for well under a minute, and always resumed afterwards: the stack is
 * shared. WAL is written into a scratch table that no publication includes, so no
 * change event is produced by this test.
 */
const CONNECTOR = 'crm-connector';
const SLOT = 'dbz_crm';
const SCRATCH = `ops_slots_test_${randomBytes(4).toString('hex')}`;
const MiB = 1024 * 1024;
const db = pools();

function slots(args: string[], extraEnv: Record<string, string> = {}): Promise<ScriptRun> {
  return runScript('scripts/ops/slots.ts', args, extraEnv);
}

async function report(args: string[]): Promise<{ code: number | null; report: Report }> {
  const r = await slots(['--json', ...args]);
  try {
    return { code: r.code, report: JSON.parse(r.stdout) as Report };
  } catch {
    throw new Error(`ops:slots printed no JSON (exit ${r.code}): ${r.stdout}${r.stderr}`);
  }
}

async function connectorCall(action: 'pause' | 'resume' | 'stop'): Promise<void> {
  const res = await fetch(`${env.KAFKA_CONNECT_URL}/connectors/${CONNECTOR}/${action}`, { method: 'PUT' });
  if (!res.ok) throw new Error(`PUT ${action} → ${res.status}: ${await res.text()}`);
}

async function connectorState(): Promise<string | undefined> {
  return (await connect.status(CONNECTOR))?.connector.state;
}

async function retained(): Promise<number> {
  const { rows } = await db.crm.query<{ b: string }>(
    'SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::text AS b FROM pg_replication_slots WHERE slot_name = $1',
    [SLOT],
  );
  return Number(rows[0]!.b);
}

afterAll(async () => {
  // Whatever happened above: the connector runs again and the scratch table is gone.
  await connectorCall('resume').catch(() => {});
  await connect.waitRunning(CONNECTOR, 120_000).catch((err: unknown) => console.error(`[ops-slots] ${String(err)}`));
  await db.crm.query(`DROP TABLE IF EXISTS public.${SCRATCH}`).catch(() => {});
  await Promise.all([db.crm.end(), db.telemetry.end()]);
}, 180_000);

describe('npm run ops:slots', () => {
  it('lists the pipeline\'s slots of both databases, active, exit 0', async () => {
    await connect.waitRunning(CONNECTOR, 60_000);
    const { code, report: r } = await report(['--slot', 'dbz_crm', '--slot', 'dbz_telemetry']);
    expect(code).toBe(0);
    expect(r.errors).toEqual([]);
    expect(r.missing).toEqual([]);
    const bySlot = Object.fromEntries(r.slots.map((s) => [s.slot, s]));
    expect(bySlot.dbz_crm).toMatchObject({ source: 'crm_db', plugin: 'pgoutput', active: true, problems: [] });
    expect(bySlot.dbz_telemetry).toMatchObject({ source: 'telemetry_db', plugin: 'pgoutput', active: true, problems: [] });
    for (const s of r.slots) {
      expect(s.walStatus).toMatch(/^(reserved|extended)$/);
      expect(s.retainedBytes).toBeGreaterThanOrEqual(0);
      expect(s.safeWalBytes).toBeGreaterThan(0);
      expect(s.maxSlotWalKeepSize).toBe('4GB');
    }

    const table = await slots([]);
    expect(table.stdout).toMatch(/crm_db\s+dbz_crm\s+pgoutput\s+yes/);
    expect(table.stdout).toMatch(/telemetry_db\s+dbz_telemetry\s+pgoutput\s+yes/);
    expect(table.stdout).toMatch(/max_slot_wal_keep_size = 4GB/);
  });

  it('a paused connector: retained WAL grows past the threshold (exit 1); stopped: inactive (exit 1); resumed: drains (exit 0)', async () => {
    await connectorCall('pause');
    await until('crm-connector PAUSED', async () => (await connectorState()) === 'PAUSED', 30_000, 250);
    // Let Connect flush the offsets of what was polled before the pause.
    await new Promise((r) => setTimeout(r, 2_000));
    const before = await retained();

    // ~6 MiB of WAL in a table no publication includes.
    await db.crm.query(`CREATE TABLE public.${SCRATCH} (id int, pad text)`);
    await db.crm.query(`INSERT INTO public.${SCRATCH} SELECT g, repeat('x', 200) FROM generate_series(1, 25000) g`);
    const grown = await retained();
    console.log(`[ops-slots] paused: ${SLOT} retained ${(before / MiB).toFixed(2)} MiB → ${(grown / MiB).toFixed(2)} MiB`);
    expect(grown - before).toBeGreaterThan(4 * MiB);

    const threshold = String(((before + 2 * MiB) / MiB).toFixed(2));
    const paused = await report(['--slot', SLOT, '--max-retained-mb', threshold]);
    expect(paused.code).toBe(1);
    expect(paused.report.slots[0]).toMatchObject({ slot: SLOT, active: true });
    expect(paused.report.slots[0]!.problems.join()).toMatch(/^retains .* > /);
    // Above a generous threshold the same paused slot is fine: a pause alone is not an alert.
    expect((await report(['--slot', SLOT, '--max-retained-mb', '100000'])).code).toBe(0);

    await connectorCall('stop');
    await until('crm-connector STOPPED', async () => (await connectorState()) === 'STOPPED', 30_000, 250);
    const stopped = await until(
      `${SLOT} inactive`,
      async () => {
        const r = await report(['--slot', SLOT, '--max-retained-mb', '100000']);
        return r.report.slots[0]?.active === false ? r : undefined;
      },
      30_000,
      500,
    );
    expect(stopped.code).toBe(1);
    expect(stopped.report.slots[0]!.problems.join()).toMatch(/inactive/);
    const table = await slots(['--slot', SLOT]);
    expect(table.code).toBe(1);
    expect(table.stdout).toMatch(/dbz_crm\s+pgoutput\s+NO .*ALERT: inactive/);

    await connectorCall('resume');
    await connect.waitRunning(CONNECTOR, 120_000);
    const drained = await until(
      `${SLOT} to drain below ${threshold} MiB`,
      async () => {
        const r = await report(['--slot', SLOT, '--max-retained-mb', threshold]);
        return r.code === 0 ? r : undefined;
      },
      120_000,
      1_000,
    );
    expect(drained.report.slots[0]).toMatchObject({ active: true, problems: [] });
    console.log(`[ops-slots] resumed: ${SLOT} retains ${((drained.report.slots[0]!.retainedBytes ?? 0) / MiB).toFixed(2)} MiB`);
  }, 300_000);

  it('exit 3 when a database cannot be queried; the other database is still reported', async () => {
    const port = await freePort();
    const r = await slots(['--json'], { CRM_DATABASE_URL: `postgresql://postgres:postgres@127.0.0.1:${port}/crm_db` });
    expect(r.code).toBe(3);
    const rep = JSON.parse(r.stdout) as Report;
    expect(rep.errors).toEqual([{ source: 'crm_db', error: expect.stringMatching(/ECONNREFUSED/) }]);
    expect(rep.slots.map((s) => s.slot)).toContain('dbz_telemetry');
  });

  it('exit 2 on a bad command line', async () => {
    const r = await slots(['--max-retained-mb', 'lots']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--max-retained-mb expects a number/);
  });
});
