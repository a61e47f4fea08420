import type pg from 'pg';

/**
 * Drops a replication slot once its consumer has let go of it (a slot stays active
 * for a moment after its connector is deleted); a missing slot is fine. Resolves
 * true when this call dropped it.
 */
export async function dropSlotWhenReleased(db: Pick<pg.Pool, 'query'>, slot: string, timeoutMs = 60_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await db.query<{ active: boolean }>('SELECT active FROM pg_replication_slots WHERE slot_name = $1', [slot]);
    if (r.rowCount === 0) return false;
    if (!r.rows[0]!.active) {
      await db.query('SELECT pg_drop_replication_slot($1)', [slot]);
      return true;
    }
    if (Date.now() > deadline) throw new Error(`replication slot ${slot} still active after ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
