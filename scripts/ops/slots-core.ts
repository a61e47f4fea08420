import { parseArgs } from 'node:util';
import { bytes, type Report } from '@cdc/db/slots';
import { table } from '../kafka/format.js';

export { bytes, SLOTS_SQL, toSlot, type Report, type Slot, type SlotRow, type SourceError } from '@cdc/db/slots';

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

export function exitCode(report: Report): number {
  if (report.errors.length > 0) return EXIT.UNREACHABLE;
  if (report.missing.length > 0 || report.slots.some((s) => s.problems.length > 0)) return EXIT.ALERT;
  return EXIT.OK;
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
