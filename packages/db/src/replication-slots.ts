import pg from 'pg';

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

/**
 * One row per slot. LSN differences in bytes (numeric in PostgreSQL, returned as
 * text and parsed here: they can exceed 2^53 only in theory). reply_time is the
 * walsender's last feedback from the consumer, NULL when no walsender serves the slot.
 */
export const SLOTS_SQL = `
SELECT s.slot_name,
       s.slot_type,
       s.plugin,
       s.database,
       s.active,
       s.active_pid,
       s.wal_status,
       s.restart_lsn::text,
       s.confirmed_flush_lsn::text,
       pg_current_wal_lsn()::text                                   AS current_lsn,
       pg_wal_lsn_diff(pg_current_wal_lsn(), s.restart_lsn)::text         AS retained_bytes,
       pg_wal_lsn_diff(pg_current_wal_lsn(), s.confirmed_flush_lsn)::text AS confirm_lag_bytes,
       s.safe_wal_size::text                                        AS safe_wal_bytes,
       extract(epoch FROM now() - r.reply_time)::float8             AS reply_age_s,
       current_setting('max_slot_wal_keep_size')                    AS max_slot_wal_keep_size
FROM pg_replication_slots s
LEFT JOIN pg_stat_replication r ON r.pid = s.active_pid
ORDER BY s.slot_name`;

export interface SlotRow {
  slot_name: string;
  slot_type: string;
  plugin: string | null;
  database: string | null;
  active: boolean;
  active_pid: number | null;
  wal_status: string | null;
  restart_lsn: string | null;
  confirmed_flush_lsn: string | null;
  current_lsn: string;
  retained_bytes: string | null;
  confirm_lag_bytes: string | null;
  safe_wal_bytes: string | null;
  reply_age_s: number | null;
  max_slot_wal_keep_size: string;
}

export interface Slot {
  /** Which database URL it was read from: the database name of the URL. */
  source: string;
  slot: string;
  type: string;
  plugin: string | null;
  active: boolean;
  activePid: number | null;
  walStatus: string | null;
  restartLsn: string | null;
  confirmedFlushLsn: string | null;
  currentLsn: string;
  retainedBytes: number | null;
  confirmLagBytes: number | null;
  safeWalBytes: number | null;
  replyAgeS: number | null;
  maxSlotWalKeepSize: string;
  problems: string[];
}

export interface SourceError {
  source: string;
  error: string;
}

export interface Report {
  checkedAt: string;
  maxRetainedBytes: number;
  slots: Slot[];
  /** Slots named with --slot that no database has. */
  missing: string[];
  errors: SourceError[];
}

const num = (v: string | null): number | null => (v === null ? null : Number(v));

export function toSlot(source: string, r: SlotRow, maxRetainedBytes: number): Slot {
  const retained = num(r.retained_bytes);
  const problems: string[] = [];
  // A lost slot pins nothing any more: that it was invalidated is the whole story.
  if (r.wal_status === 'lost') problems.push('wal_status=lost: invalidated, the connector needs a new snapshot');
  else {
    if (!r.active) problems.push('inactive: no consumer, WAL is pinned');
    if (r.wal_status === 'unreserved') problems.push('wal_status=unreserved: about to be invalidated');
  }
  if (retained !== null && retained > maxRetainedBytes) {
    problems.push(`retains ${bytes(retained)} > ${bytes(maxRetainedBytes)}`);
  }
  return {
    source,
    slot: r.slot_name,
    type: r.slot_type,
    plugin: r.plugin,
    active: r.active,
    activePid: r.active_pid,
    walStatus: r.wal_status,
    restartLsn: r.restart_lsn,
    confirmedFlushLsn: r.confirmed_flush_lsn,
    currentLsn: r.current_lsn,
    retainedBytes: retained,
    confirmLagBytes: num(r.confirm_lag_bytes),
    safeWalBytes: num(r.safe_wal_bytes),
    replyAgeS: r.reply_age_s,
    maxSlotWalKeepSize: r.max_slot_wal_keep_size,
    problems,
  };
}

/** 1,536 → "1.5 KiB"; binary units, as PostgreSQL's pg_size_pretty (which writes kB/MB). */
export function bytes(n: number | null): string {
  if (n === null) return '-';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = Math.abs(n);
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  const s = i === 0 ? String(v) : v.toFixed(v < 10 ? 1 : 0);
  return `${n < 0 ? '-' : ''}${s} ${units[i]}`;
}

/** Where slots are read from: a database, by a name for the report. */
export interface SlotSource {
  name: string;
  read(): Promise<SlotRow[]>;
}

/** A database by URL, on a connection of its own for each read (a one-shot command). */
export function urlSlotSource(url: string): SlotSource {
  return {
    name: new URL(url).pathname.replace(/^\//, '') || url,
    async read() {
      const client = new pg.Client({
        connectionString: url,
        connectionTimeoutMillis: 5_000,
        statement_timeout: 10_000,
        application_name: 'ops-slots',
      });
      client.on('error', () => {});
      await client.connect();
      try {
        return (await client.query<SlotRow>(SLOTS_SQL)).rows;
      } finally {
        await client.end().catch(() => {});
      }
    },
  };
}

/** A database through a pool the caller already has (a long-running process). */
export function poolSlotSource(name: string, pool: Pick<pg.Pool, 'query'>): SlotSource {
  return { name, read: async () => (await pool.query<SlotRow>(SLOTS_SQL)).rows };
}

/**
 * Every replication slot of the given databases with its verdict; a database that
 * cannot be queried is reported in `errors`, not thrown, so one down database does not
 * hide the other's slots.
 */
export async function checkSlots(opts: { maxRetainedBytes: number; slots: readonly string[] }, sources: readonly SlotSource[]): Promise<Report> {
  const report: Report = {
    checkedAt: new Date().toISOString(),
    maxRetainedBytes: opts.maxRetainedBytes,
    slots: [],
    missing: [],
    errors: [],
  };
  const results = await Promise.allSettled(sources.map((s) => s.read()));
  results.forEach((r, i) => {
    const source = sources[i]!.name;
    if (r.status === 'rejected') {
      report.errors.push({ source, error: (r.reason as Error).message || String(r.reason) });
      return;
    }
    for (const row of r.value) {
      if (opts.slots.length > 0 && !opts.slots.includes(row.slot_name)) continue;
      report.slots.push(toSlot(source, row, opts.maxRetainedBytes));
    }
  });
  // A named slot is missing only if every database answered and none has it.
  if (report.errors.length === 0) {
    report.missing = opts.slots.filter((name) => !report.slots.some((s) => s.slot === name));
  }
  return report;
}
