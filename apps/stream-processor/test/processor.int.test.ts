import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logLevel } from 'kafkajs';
import { createKafka, kafkaAccess } from '@cdc/kafka';
import { loadStackConfig } from '../../../scripts/stack/config.js';
import { pauseComponent } from '../../../scripts/stack/stack.js';
import { groupCaughtUp } from '../../../scripts/lib/analytics-compare.js';
import { TELEMETRY_EVENTS, USERS, describeDiff, isEqual, waitForEquality } from '../../../scripts/lib/cdc-compare.js';
import { startApp, type RunningApp } from '../../../tests/support/apps.js';
import { clickhouse, env, pools, until } from '../../../tests/support/cdc.js';
import { mulberry32 } from '../../../scripts/import/generator.js';

/**
 * The processor's delivery promise, end to end on the real stack: 100,000 events
 * written to telemetry_db while the processor runs, the processor killed with
 * SIGKILL half-way and started again; once it has caught up, every analytics table
 * equals a from-scratch recomputation over default.telemetry_events (the CDC
 * current state, itself first checked equal to PostgreSQL).
 *
 * One processor writes the aggregates at a time (they are recomputed, and two
 * writers could interleave), so the stack's own instance is stopped meanwhile.
 */
const db = pools();
const ch = clickhouse();
const kafka = createKafka({ ...kafkaAccess(env), logLevel: 'silent' }, 'processor-test');
const stackConfig = loadStackConfig();
let resumeStackProcessor: () => Promise<void> = async () => {};
let processor: RunningApp | undefined;
const GROUP = 'stream-processor';
const USER_BASE = 700_000_000 + Math.floor(Math.random() * 1_000_000) * 10;

async function rows<T>(query: string): Promise<T[]> {
  return (await ch.query({ query, format: 'JSONEachRow', clickhouse_settings: { output_format_json_quote_64bit_integers: 0 } })).json<T>();
}

async function startProcessor(): Promise<RunningApp> {
  const app = await startApp('stream-processor', { STREAM_PROCESSOR_GROUP: GROUP, CDC_FRESHNESS_POLL_MS: '60000' });
  return app;
}

/** The enrich group's committed offsets have reached every partition's end. */
async function caughtUp(): Promise<boolean> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await groupCaughtUp(admin, `${GROUP}-enrich`, 'telemetry.public.telemetry_events');
  } finally {
    await admin.disconnect();
  }
}

beforeAll(async () => {
  resumeStackProcessor = (await pauseComponent(stackConfig, 'stream-processor')).resume;
});

afterAll(async () => {
  await processor?.stop();
  await resumeStackProcessor();
  await Promise.allSettled([db.crm.end(), db.telemetry.end(), ch.close()]);
});

async function insertUsers(n: number, rnd: () => number): Promise<number[]> {
  const { rows: created } = await db.crm.query<{ id: number }>(
    `INSERT INTO users (name, email, age, gender, country)
     SELECT 'Processor user ' || g, 'processor+' || $1::text || '-' || g || '@example.com',
            (ARRAY[NULL, 12, 25, 37, 52, 68, 80])[1 + (g % 7)], (ARRAY['female', 'male', NULL])[1 + (g % 3)],
            (ARRAY['UA', 'PL', 'DE', NULL])[1 + (g % 4)]
       FROM generate_series(1, $2::int) AS g RETURNING id`,
    [randomUUID().slice(0, 8), n],
  );
  void rnd;
  return created.map((r) => r.id);
}

async function insertEvents(n: number, userIds: number[], rnd: () => number): Promise<void> {
  const cols: unknown[][] = [[], [], [], [], [], [], [], []];
  for (let i = 0; i < n; i++) {
    cols[0]!.push(randomUUID());
    cols[1]!.push(userIds[Math.floor(rnd() * userIds.length)]);
    cols[2]!.push(['myoelectric_hand', 'bionic_arm', 'hybrid_elbow'][Math.floor(rnd() * 3)]);
    cols[3]!.push(['biceps', 'triceps', 'forearm_flexors'][Math.floor(rnd() * 3)]);
    cols[4]!.push(100 + Math.floor(rnd() * 1000));
    cols[5]!.push(Math.floor(rnd() * 1000));
    cols[6]!.push(Math.round(rnd() * 1e6) / 1e5);
    cols[7]!.push(new Date(Date.UTC(2026, 10, 20, 8, 0) + Math.floor(rnd() * 3 * 3600_000)).toISOString());
  }
  await db.telemetry.query(
    `INSERT INTO telemetry_events (event_uuid, user_id, prosthesis_type, muscle_group, signal_frequency, signal_duration, signal_amplitude, event_timestamp)
     SELECT * FROM unnest($1::uuid[], $2::int4[], $3::text[], $4::text[], $5::int4[], $6::int4[], $7::float8[], $8::timestamptz[])`,
    cols,
  );
}

describe('stream processor: kill -9 in the middle of a 100,000-event load', () => {
  it('ends with analytics views equal to a recomputation over default.telemetry_events', async () => {
    const rnd = mulberry32(4242);
    const known = await insertUsers(200, rnd);
    // Users that do not exist yet when their events are processed: created at the end.
    const late = Array.from({ length: 5 }, (_, i) => USER_BASE + i);

    processor = await startProcessor();
    for (let i = 0; i < 20; i++) {
      await insertEvents(5_000, [...known, ...late], rnd);
      if (i === 4) {
        // Some updates and deletes, so the views must apply those too.
        await db.telemetry.query(`UPDATE telemetry_events SET signal_amplitude = signal_amplitude + 1 WHERE user_id = ANY($1::int4[]) AND id % 7 = 0`, [known]);
        await db.telemetry.query(`DELETE FROM telemetry_events WHERE user_id = ANY($1::int4[]) AND id % 11 = 0`, [known]);
      }
      if (i === 10) {
        await processor.kill();
        processor = await startProcessor();
      }
    }
    // The late users arrive after their events.
    for (const id of late) {
      await db.crm.query(
        `INSERT INTO users (id, name, email, age, country) VALUES ($1::int, 'Late user', 'late+' || $1::text || '@example.com', 41, 'FR')`,
        [id],
      );
    }

    // The CDC current state first, then the processor.
    const [u, e] = await Promise.all([
      waitForEquality(USERS, db.crm, ch, 300_000),
      waitForEquality(TELEMETRY_EVENTS, db.telemetry, ch, 300_000),
    ]);
    expect(isEqual(u), describeDiff(u)).toBe(true);
    expect(isEqual(e), describeDiff(e)).toBe(true);
    await until('the processor to commit every telemetry offset', async () => (await caughtUp()) || undefined, 600_000);
    await until('the late users re-enriched', async () => {
      const [r] = await rows<{ n: number }>(`SELECT count() AS n FROM analytics.telemetry_enriched FINAL WHERE user_id IN (${late.join(',')}) AND user_known = 0`);
      return Number(r!.n) === 0 || undefined;
    }, 120_000);

    // 1. telemetry_enriched: exactly the current events, same values.
    const [enrichedDiff] = await rows<{ missing: number; extra: number; different: number }>(`
      SELECT countIf(e.event_uuid = toUUID('00000000-0000-0000-0000-000000000000')) AS missing,
             countIf(t.event_uuid = toUUID('00000000-0000-0000-0000-000000000000')) AS extra,
             countIf(e.event_uuid != toUUID('00000000-0000-0000-0000-000000000000') AND t.event_uuid != toUUID('00000000-0000-0000-0000-000000000000')
                     AND (e.id, e.user_id, e.prosthesis_type, e.muscle_group, e.signal_frequency, e.signal_duration, e.signal_amplitude, e.event_timestamp)
                      != (t.id, t.user_id, t.prosthesis_type, t.muscle_group, t.signal_frequency, t.signal_duration, t.signal_amplitude, t.event_timestamp)) AS different
      FROM (SELECT * FROM default.telemetry_events FINAL) AS t
      FULL OUTER JOIN (SELECT * FROM analytics.telemetry_enriched FINAL) AS e ON e.event_uuid = t.event_uuid
      SETTINGS join_use_nulls = 0`);
    expect(enrichedDiff).toEqual({ missing: 0, extra: 0, different: 0 });

    // Enrichment: the test's users' fields as the dimension knew them (they did not change).
    const [wrongDims] = await rows<{ n: number }>(`
      SELECT count() AS n FROM analytics.telemetry_enriched AS e FINAL
      WHERE e.user_id IN (${[...known, ...late].join(',')})
        AND (e.user_known != 1
             OR e.country IS DISTINCT FROM joinGet('debezium.users_join', 'country', e.user_id)
             OR e.gender IS DISTINCT FROM joinGet('debezium.users_join', 'gender', e.user_id))`);
    expect(Number(wrongDims!.n)).toBe(0);

    // 2. telemetry_by_minute: every key, every number.
    const byMinute = (source: string) => `
      SELECT toString(minute) AS minute, prosthesis_type, muscle_group, events, avg_amplitude,
             max_amplitude, p50_amplitude, p95_amplitude FROM (${source}) ORDER BY minute, prosthesis_type, muscle_group`;
    type MinuteRow = { avg_amplitude: number } & Record<string, unknown>;
    const fromProcessor = await rows<MinuteRow>(byMinute('SELECT * FROM analytics.telemetry_by_minute_v WHERE events > 0'));
    const recomputed = await rows<MinuteRow>(byMinute(`
      SELECT toStartOfMinute(event_timestamp) AS minute, prosthesis_type, muscle_group, count() AS events,
             avg(signal_amplitude) AS avg_amplitude, max(signal_amplitude) AS max_amplitude,
             quantilesExact(0.5, 0.95)(signal_amplitude) AS q, q[1] AS p50_amplitude, q[2] AS p95_amplitude
      FROM default.telemetry_events FINAL GROUP BY minute, prosthesis_type, muscle_group`));
    expect(fromProcessor.length).toBeGreaterThan(0);
    // Everything exact except the mean, whose float sum depends on the order rows are added in.
    const withoutAvg = (xs: MinuteRow[]) => xs.map(({ avg_amplitude: _, ...rest }) => rest);
    expect(withoutAvg(fromProcessor)).toEqual(withoutAvg(recomputed));
    const worstAvg = Math.max(...fromProcessor.map((r, i) => Math.abs(r.avg_amplitude - recomputed[i]!.avg_amplitude) / Math.max(1, Math.abs(recomputed[i]!.avg_amplitude))));
    expect(worstAvg).toBeLessThan(1e-12);

    // 3. user_activity.
    const activity = (source: string) => `
      SELECT user_id, events, toString(first_event_at) AS first_event_at, toString(last_event_at) AS last_event_at, last_amplitude
      FROM (${source}) ORDER BY user_id`;
    expect(await rows(activity('SELECT * FROM analytics.user_activity FINAL WHERE events > 0'))).toEqual(
      await rows(activity(`
        SELECT user_id, count() AS events, min(event_timestamp) AS first_event_at, max(event_timestamp) AS last_event_at,
               argMax(signal_amplitude, (event_timestamp, id)) AS last_amplitude
        FROM default.telemetry_events FINAL GROUP BY user_id`)),
    );

    const metrics = await (await fetch(`${processor.url}/metrics`)).text();
    expect(metrics).toMatch(/cdc_processor_messages_total\{topic="telemetry.public.telemetry_events",result="processed"/);
  }, 1_200_000);
});
