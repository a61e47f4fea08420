import { Readable } from 'node:stream';
import type { ClickHouseClient } from '@clickhouse/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EnrichedRow } from '../src/enrich.js';
import { basicTimestamp, encodeRows, ROW_COLUMNS } from '../src/row-tsv.js';
import { startAnalyticsServer } from './analytics-server.js';

const row = (over: Partial<EnrichedRow> = {}): EnrichedRow => ({
  event_uuid: '0b0e5e8e-4c1b-4a7e-9a55-1f0c2a3b4c5d',
  id: 9_007_199_254_740_991,
  user_id: -2_147_483_648,
  prosthesis_type: 'arm "α"\\\n\u0000\u2028\ttab',
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
  _version: '18446744073709551615',
  _is_deleted: 0,
  _source_ts: 1_796_632_084_741,
  ...over,
});

// Every shape of value the decoder lets through, and every byte TabSeparated escapes.
const ROWS: EnrichedRow[] = [
  row(),
  row({ event_uuid: '00000000-0000-0000-0000-000000000000', request_id: 'req-1', gender: 'f', user_known: 0, _is_deleted: 1, signal_amplitude: -0.25 }),
  row({ event_uuid: 'ffffffff-ffff-ffff-ffff-ffffffffffff', muscle_group: '\\N', request_id: '\\N', country: '', signal_amplitude: 123456789.123456789 }),
  row({ event_uuid: '1b0e5e8e-4c1b-4a7e-9a55-1f0c2a3b4c5d', event_timestamp: '2026-11-25 12:00:00', _source_ts: 0 }),
  row({ event_uuid: '2b0e5e8e-4c1b-4a7e-9a55-1f0c2a3b4c5d', event_timestamp: '2026-11-25T12:00:00.1+00:00', id: -9_007_199_254_740_991 }),
  row({ event_uuid: '3b0e5e8e-4c1b-4a7e-9a55-1f0c2a3b4c5d', event_timestamp: '2026-11-25T12:00:00.123456789Z', gender: 'line1\nline2\\end\t' }),
  row({ event_uuid: '4b0e5e8e-4c1b-4a7e-9a55-1f0c2a3b4c5d', event_timestamp: '1970-01-01T00:00:00Z', signal_amplitude: 5e-324 }),
];

describe('basicTimestamp', () => {
  it.each([
    ['2026-11-25T12:00:00Z', '2026-11-25 12:00:00'],
    ['2026-11-25T12:00:00.123456Z', '2026-11-25 12:00:00.123456'],
    ['2026-11-25 12:00:00.5', '2026-11-25 12:00:00.5'],
    ['2026-11-25T12:00:00.123456789+00:00', '2026-11-25 12:00:00.123456'],
  ])('%s → %s', (input, expected) => {
    expect(basicTimestamp(input)).toBe(expected);
  });

  it('refuses what is not a UTC timestamp', () => {
    expect(() => basicTimestamp('2026-11-25T12:00:00+01:00')).toThrow(/not a UTC timestamp/);
  });
});

describe('encodeRows', () => {
  it('writes one line per row, with every tab, newline and backslash of a value escaped', () => {
    const lines = encodeRows(ROWS).toString('utf8').split('\n');
    expect(lines.pop()).toBe('');
    expect(lines).toHaveLength(ROWS.length);
    for (const line of lines) expect(line.split('\t')).toHaveLength(ROW_COLUMNS.split(', ').length);
  });

  it('is empty for no rows', () => {
    expect(encodeRows([]).length).toBe(0);
  });
});

// ClickHouse itself decides whether the body means what the rows say: the same rows
// are inserted as the generic JSON a client library would send (every value as
// JSON.stringify writes it, timestamps parsed best-effort) and as TabSeparated, and
// the two tables must read back identical.
describe('encodeRows, read back by ClickHouse', () => {
  let server: Awaited<ReturnType<typeof startAnalyticsServer>>;
  let ch: ClickHouseClient;

  beforeAll(async () => {
    // No view: each enriched table is written on its own.
    server = await startAnalyticsServer({ withView: false });
    ch = server.ch;
  }, 60_000);

  afterAll(async () => {
    await server?.close();
  });

  it('reads back exactly what the generic JSON encoding of the same rows gives', async () => {
    const json = ROWS.map((r) => JSON.stringify({ ...r, _source_ts: new Date(r._source_ts).toISOString() })).join('\n');
    await ch.exec({
      query: 'INSERT INTO analytics.telemetry_enriched_by_user FORMAT JSONEachRow',
      values: Readable.from([Buffer.from(json)], { objectMode: false }),
      clickhouse_settings: { date_time_input_format: 'best_effort' },
    }).then(({ stream }) => stream.resume());
    await ch.exec({
      query: `INSERT INTO analytics.telemetry_enriched (${ROW_COLUMNS}) FORMAT TabSeparated`,
      values: Readable.from([encodeRows(ROWS)], { objectMode: false }),
    }).then(({ stream }) => stream.resume());

    const read = async (table: string) =>
      (await ch.query({ query: `SELECT * EXCEPT _processed_at FROM analytics.${table} ORDER BY event_uuid`, format: 'JSONEachRow' })).json();
    const viaTsv = await read('telemetry_enriched');
    expect(viaTsv).toHaveLength(ROWS.length);
    expect(viaTsv).toEqual(await read('telemetry_enriched_by_user'));
  });
});
