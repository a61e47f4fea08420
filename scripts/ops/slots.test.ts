import { describe, expect, it } from 'vitest';
import { bytes, exitCode, formatReport, parseOptions, toSlot, UsageError, type Report, type SlotRow } from './slots-core.js';

const row = (over: Partial<SlotRow> = {}): SlotRow => ({
  slot_name: 'dbz_crm',
  slot_type: 'logical',
  plugin: 'pgoutput',
  database: 'crm_db',
  active: true,
  active_pid: 123,
  wal_status: 'reserved',
  restart_lsn: '0/1000',
  confirmed_flush_lsn: '0/1100',
  current_lsn: '0/1200',
  retained_bytes: '512',
  confirm_lag_bytes: '256',
  safe_wal_bytes: '4294966784',
  reply_age_s: 0.5,
  max_slot_wal_keep_size: '4GB',
  ...over,
});

const report = (slots: Report['slots'], more: Partial<Report> = {}): Report => ({
  checkedAt: '2026-12-04T00:00:00Z',
  maxRetainedBytes: 1024 ** 3,
  slots,
  missing: [],
  errors: [],
  ...more,
});

describe('ops:slots options', () => {
  it('defaults and flags', () => {
    expect(parseOptions([])).toEqual({ json: false, maxRetainedBytes: 1024 ** 3, slots: [], help: false });
    expect(parseOptions(['--json', '--max-retained-mb', '0.5', '--slot', 'a', '--slot', 'b'])).toEqual({
      json: true,
      maxRetainedBytes: 524_288,
      slots: ['a', 'b'],
      help: false,
    });
  });
  it.each([[['--max-retained-mb', 'x']], [['--max-retained-mb', '-1']], [['--nope']], [['positional']]])('refuses %j', (argv) => {
    expect(() => parseOptions(argv)).toThrow(UsageError);
  });
});

describe('ops:slots verdict', () => {
  it('an active, reserved slot under the threshold is fine', () => {
    const s = toSlot('crm_db', row(), 1024);
    expect(s.problems).toEqual([]);
    expect(s).toMatchObject({ retainedBytes: 512, confirmLagBytes: 256, replyAgeS: 0.5 });
    expect(exitCode(report([s]))).toBe(0);
  });
  it('inactive, unreserved, lost and over-threshold slots are alerts', () => {
    expect(toSlot('x', row({ active: false, active_pid: null }), 1024).problems).toEqual(['inactive: no consumer, WAL is pinned']);
    expect(toSlot('x', row({ wal_status: 'unreserved' }), 1024).problems[0]).toMatch(/about to be invalidated/);
    expect(toSlot('x', row({ wal_status: 'lost', active: false, retained_bytes: null }), 1024).problems).toEqual([
      'wal_status=lost: invalidated, the connector needs a new snapshot',
    ]);
    expect(toSlot('x', row({ retained_bytes: '2048' }), 1024).problems).toEqual(['retains 2.0 KiB > 1.0 KiB']);
    expect(exitCode(report([toSlot('x', row({ active: false }), 1024)]))).toBe(1);
  });
  it('missing named slots alert; an unreachable database wins', () => {
    expect(exitCode(report([], { missing: ['dbz_crm'] }))).toBe(1);
    expect(exitCode(report([], { missing: ['dbz_crm'], errors: [{ source: 'crm_db', error: 'down' }] }))).toBe(3);
  });
  it('formats bytes and the table', () => {
    expect([bytes(0), bytes(1023), bytes(1536), bytes(63 * 1024 ** 2), bytes(4 * 1024 ** 3), bytes(null)]).toEqual([
      '0 B',
      '1023 B',
      '1.5 KiB',
      '63 MiB',
      '4.0 GiB',
      '-',
    ]);
    const text = formatReport(report([toSlot('crm_db', row({ active: false, active_pid: null }), 1024 ** 3)]));
    expect(text).toMatch(/crm_db\s+dbz_crm\s+pgoutput\s+NO\s+-\s+reserved\s+512 B\s+256 B\s+4\.0 GiB\s+0\.5 s\s+ALERT: inactive/);
    expect(text).toMatch(/retained WAL > 1\.0 GiB; max_slot_wal_keep_size = 4GB/);
  });
});
