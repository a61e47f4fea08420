import { parseArgs } from 'node:util';
import { table } from '../kafka/format.js';

/**
 * The pure parts of `npm run ops:slots` (scripts/ops/slots.ts): options, the SQL,
 * the verdict per slot and the table. Kept apart from the database calls so they
 * can be unit-tested.
 */

export const EXIT = { OK: 0, ALERT: 1, USAGE: 2, UNREACHABLE: 3 } as const;

export const DEFAULT_MAX_RETAINED_MB = 1024;

export const USAGE = `usage: npm run ops:slots -- [--json] [--max-retained-mb N] [--slot NAME]…

Replication slots of both pipeline databases (CRM_DATABASE_URL, TELEMETRY_DATABASE_URL):
active or not, wal_status, WAL the slot retains (pg_current_wal_lsn() − restart_lsn),
how far the consumer's confirmed position is behind (− confirmed_flush_lsn), what is
left before max_slot_wal_keep_size invalidates it (safe_wal_size), and how long ago
the consumer last answered (pg_stat_replication.reply_time).

  --json               machine output (bytes as numbers)
  --max-retained-mb N  alert when a slot retains more than N MiB of WAL (default ${DEFAULT_MAX_RETAINED_MB})
  --slot NAME          only this slot (repeatable); a named slot that exists nowhere is an alert
  -h, --help

A slot is an alert when it is inactive (no consumer: its WAL is pinned and grows),
when wal_status is 'unreserved' (about to be invalidated) or 'lost' (invalidated: the
connector needs a new snapshot), or when it retains more than --max-retained-mb.

Exit codes: 0 every slot fine, 1 at least one alert, 2 usage, 3 a database could not be queried.`;

export class UsageError extends Error {
  override name = 'UsageError';
}

export interface Options {
  json: boolean;
  maxRetainedBytes: number;
  slots: string[];
  help: boolean;
}

export function parseOptions(argv: readonly string[]): Options {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        json: { type: 'boolean', default: false },
        'max-retained-mb': { type: 'string' },
        slot: { type: 'string', multiple: true },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const v = parsed.values;
  let mb = DEFAULT_MAX_RETAINED_MB;
  if (v['max-retained-mb'] !== undefined) {
    const raw = v['max-retained-mb'];
    mb = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(mb) || mb < 0) {
      throw new UsageError(`--max-retained-mb expects a number ≥ 0, got "${raw}"`);
    }
  }
  return { json: v.json ?? false, maxRetainedBytes: Math.round(mb * 1024 * 1024), slots: v.slot ?? [], help: v.help ?? false };
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

export function exitCode(report: Report): number {
  if (report.errors.length > 0) return EXIT.UNREACHABLE;
  if (report.missing.length > 0 || report.slots.some((s) => s.problems.length > 0)) return EXIT.ALERT;
  return EXIT.OK;
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

export function formatReport(report: Report): string {
  const lines: string[] = [];
  if (report.slots.length === 0) lines.push('(no replication slots)');
  else {
    lines.push(
      table(
        ['DATABASE', 'SLOT', 'PLUGIN', 'ACTIVE', 'PID', 'WAL_STATUS', 'RETAINED', 'CONFIRM LAG', 'SAFE_WAL', 'REPLY AGE', 'STATE'],
        report.slots.map((s) => [
          s.source,
          s.slot,
          s.plugin ?? s.type,
          s.active ? 'yes' : 'NO',
          s.activePid ?? '-',
          s.walStatus ?? '-',
          bytes(s.retainedBytes),
          bytes(s.confirmLagBytes),
          bytes(s.safeWalBytes),
          s.replyAgeS === null ? '-' : `${s.replyAgeS.toFixed(1)} s`,
          s.problems.length === 0 ? 'ok' : `ALERT: ${s.problems.join('; ')}`,
        ]),
        new Set([4, 6, 7, 8, 9]),
      ),
    );
  }
  for (const m of report.missing) lines.push(`ALERT: slot ${m} exists in no database`);
  for (const e of report.errors) lines.push(`ERROR: ${e.source}: ${e.error}`);
  const keep = [...new Set(report.slots.map((s) => s.maxSlotWalKeepSize))].join(', ');
  lines.push(`alert threshold: retained WAL > ${bytes(report.maxRetainedBytes)}${keep ? `; max_slot_wal_keep_size = ${keep}` : ''}`);
  return lines.join('\n');
}
