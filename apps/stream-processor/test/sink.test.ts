import type { ClickHouseClient } from '@clickhouse/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAnalyticsSink, type AnalyticsSink } from '../src/clickhouse-sink.js';
import type { ChangeEvent, TelemetryRow } from '../src/debezium.js';
import { emptyEnriched, emptyTouched, enrichChange, type Enriched } from '../src/enrich.js';
import { change, event } from './fixtures.js';
import { startAnalyticsServer } from './analytics-server.js';

/**
 * The processor's writes against real ClickHouse tables made by the migrations: one
 * insert into telemetry_enriched, telemetry_enriched_by_user filled by its view
 * (clickhouse/0011), and deleted rows of moved events versioned so that both tables
 * end up with each event's current state, whatever the order of the inserts.
 */
let server: Awaited<ReturnType<typeof startAnalyticsServer>>;
let ch: ClickHouseClient;
let sink: AnalyticsSink;

beforeAll(async () => {
  server = await startAnalyticsServer();
  ch = server.ch;
  sink = createAnalyticsSink(ch);
}, 60_000);

afterAll(async () => {
  await server?.close();
});

const known = (id: number) => (id === 42 ? { country: 'UA', gender: 'female', age_band: '30-44' } : undefined);

function enrich(changes: ChangeEvent<TelemetryRow>[]): Enriched {
  const out = emptyEnriched();
  for (const c of changes) enrichChange(c, known, emptyTouched(), out);
  return out;
}

async function current(table: string): Promise<string[]> {
  const rs = await ch.query({
    query: `SELECT event_uuid, user_id, muscle_group, user_known FROM analytics.${table} FINAL WHERE _is_deleted = 0 ORDER BY event_uuid`,
    format: 'JSONEachRow',
  });
  return (await rs.json<{ event_uuid: string; user_id: number; muscle_group: string; user_known: number }>()).map(
    (r) => `${r.event_uuid} user ${r.user_id} ${r.muscle_group} known ${r.user_known}`,
  );
}

const A = 'aaaaaaaa-0000-4000-8000-000000000001';
const B = 'bbbbbbbb-0000-4000-8000-000000000002';
const C = 'cccccccc-0000-4000-8000-000000000003';
const C2 = 'cccccccc-0000-4000-8000-000000000004';

describe('the analytics sink on the migrations\' tables', () => {
  it('leaves each event\'s current state in both tables after moves, deletes and a uuid change', async () => {
    const a0 = event({ event_uuid: A });
    const a1 = { ...a0, muscle_group: 'triceps' }; // moves in telemetry_enriched only
    const a2 = { ...a1, user_id: 43 }; // moves in telemetry_enriched_by_user only
    const b0 = event({ event_uuid: B, id: 8 });
    const c0 = event({ event_uuid: C, id: 9 });
    const c1 = { ...c0, event_uuid: C2 }; // moves in both
    const changes = [
      change('c', null, a0, 1_000n),
      change('c', null, b0, 1_100n),
      change('c', null, c0, 1_200n),
      change('u', a0, a1, 2_000n),
      change('u', b0, { ...b0, signal_amplitude: 3 }, 2_100n),
      change('u', c0, c1, 2_200n),
      change('u', a1, a2, 3_000n),
      change('d', { ...b0, signal_amplitude: 3 }, null, 3_100n),
    ];

    // Newest change first, and each change's new row before its deleted one, in
    // inserts of their own: the versions alone must decide.
    for (const c of [...changes].reverse()) {
      const { rows, tombstones } = enrich([c]);
      await sink.insertEnriched({ rows, tombstones: [], changes: [] });
      await sink.insertEnriched({ rows: [], tombstones, changes: [] });
    }

    const expected = [`${A} user 43 triceps known 0`, `${C2} user 42 biceps known 1`];
    expect(await current('telemetry_enriched')).toEqual(expected);
    expect(await current('telemetry_enriched_by_user')).toEqual(expected);

    // The same changes again, all in one insert: a replay writes the same versions.
    await sink.insertEnriched(enrich(changes));
    expect(await current('telemetry_enriched')).toEqual(expected);
    expect(await current('telemetry_enriched_by_user')).toEqual(expected);
  });

  it('re-enrichment of a user who arrived late reaches both tables', async () => {
    const d = event({ event_uuid: 'dddddddd-0000-4000-8000-000000000005', user_id: 44, id: 10 });
    await sink.insertEnriched(enrich([change('c', null, d, 5_000n)]));
    const rows = await sink.reenrich(44, { country: 'PL', gender: null, age_band: '18-29' });
    expect(rows).toHaveLength(1);
    for (const table of ['telemetry_enriched', 'telemetry_enriched_by_user']) {
      expect((await current(table)).filter((r) => r.startsWith('dddddddd'))).toEqual([`${d.event_uuid} user 44 biceps known 1`]);
    }
  });
});
