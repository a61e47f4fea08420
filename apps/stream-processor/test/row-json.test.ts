import { describe, expect, it } from 'vitest';
import type { EnrichedRow } from '../src/enrich.js';
import { encodeRows } from '../src/row-json.js';

const row = (over: Partial<EnrichedRow> = {}): EnrichedRow => ({
  event_uuid: '0b0e5e8e-4c1b-4a7e-9a55-1f0c2a3b4c5d',
  id: 9_007_199_254_740_991,
  user_id: -2_147_483_648,
  prosthesis_type: 'arm "α"\\\n\u0000\u2028',
  muscle_group: 'biceps',
  signal_frequency: 2_147_483_647,
  signal_duration: 0,
  signal_amplitude: 1.5e-300,
  event_timestamp: '2026-02-28T23:59:59.999999Z',
  request_id: null,
  user_known: 1,
  country: 'Ísland',
  gender: null,
  age_band: '30-39',
  _lsn: '18446744073709551615',
  _version: '36893488147419103231',
  _is_deleted: 0,
  _source_ts: 1_796_632_084_741,
  ...over,
});

describe('encodeRows', () => {
  it('writes each row as one JSONEachRow line that parses to what a generic JSON encoder would send', () => {
    const rows = [row(), row({ request_id: 'req-1', gender: 'f', user_known: 0, _is_deleted: 1, signal_amplitude: -0.25 })];
    const lines = encodeRows(rows).toString('utf8').split('\n');
    expect(lines.pop()).toBe('');
    expect(lines).toHaveLength(2);
    lines.forEach((line, i) => {
      const generic = { ...rows[i]!, _source_ts: new Date(rows[i]!._source_ts).toISOString() };
      expect(JSON.parse(line)).toEqual(generic);
      expect(Object.keys(JSON.parse(line)).sort()).toEqual(Object.keys(generic).sort());
    });
  });

  it('is empty for no rows', () => {
    expect(encodeRows([]).length).toBe(0);
  });
});
