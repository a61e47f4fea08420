import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ageBand } from '../../apps/stream-processor/src/users-dimension.js';
import { clickhouse, env, pools, until } from '../../tests/support/cdc.js';
import { runScript } from '../../tests/support/run-script.js';
import { diffTable, isEqual, TELEMETRY_EVENTS } from '../lib/cdc-compare.js';
import { analyticsEqual, diffAnalytics } from '../lib/analytics-compare.js';
import { loadStackConfig } from '../stack/config.js';
import { up } from '../stack/stack.js';

/**
 * `npm run snapshot` on the stack, while the connector streams and a writer changes
 * the table: rows the stream never carried (as rows committed before a connector's
 * slot existed) reach default.telemetry_events and analytics.*, and at the end
 * ClickHouse is PostgreSQL row for row and the views are their recomputation.
 *
 * Rows "before the slot" are made by taking the table out of the connector's
 * publication for one transaction: pgoutput sends no change of a table outside it.
 */
const db = pools();
const ch = clickhouse();
const TAG = `snap-${randomBytes(4).toString('hex')}`;
const PUBLICATION = 'dbz_telemetry';
const AGES = [null, 0, 17, 18, 29, 30, 44, 45, 59, 60, 74, 75, 150];
const ROWS = 30_000;

beforeAll(async () => {
  // The stream's analytics are the stack's processor's: the test setup starts only the
  // infrastructure, so the apps tier comes up here (a no-op when it runs).
  await up(loadStackConfig(), ['apps']);
  await until(
    "the stack's stream processor to be ready",
    async () => (await fetch(`http://127.0.0.1:${env.STREAM_PROCESSOR_PORT}/ready`).catch(() => undefined))?.ok || undefined,
    180_000,
    1_000,
  );
}, 240_000);

afterAll(async () => {
  await db.telemetry.query(`ALTER PUBLICATION ${PUBLICATION} ADD TABLE public.telemetry_events`).catch(() => {});
  await Promise.all([db.crm.end(), db.telemetry.end(), ch.close()]);
});

async function inPublication(): Promise<boolean> {
  const { rows } = await db.telemetry.query(
    "SELECT 1 FROM pg_publication_tables WHERE pubname = $1 AND schemaname = 'public' AND tablename = 'telemetry_events'",
    [PUBLICATION],
  );
  return rows.length > 0;
}

/** Inserts, updates and deletes among the test's rows until stopped: the stream's share of the work. */
function churn(): { stop: () => Promise<number> } {
  let running = true;
  let statements = 0;
  const loop = (async () => {
    while (running) {
      await db.telemetry.query(
        `UPDATE public.telemetry_events SET signal_amplitude = signal_amplitude + 1, signal_duration = signal_duration + 1
         WHERE id IN (SELECT id FROM public.telemetry_events WHERE request_id = $1 ORDER BY random() LIMIT 200)`,
        [TAG],
      );
      await db.telemetry.query(
        `DELETE FROM public.telemetry_events WHERE id IN (SELECT id FROM public.telemetry_events WHERE request_id = $1 ORDER BY random() LIMIT 20)`,
        [TAG],
      );
      await db.telemetry.query(
        `INSERT INTO public.telemetry_events (user_id, prosthesis_type, muscle_group, signal_frequency, signal_duration, signal_amplitude, event_timestamp, request_id)
         SELECT 1 + g % 5, 'bionic_arm', 'biceps', 100, 10, g / 7.0, now(), $1 FROM generate_series(1, 50) AS g`,
        [TAG],
      );
      statements += 3;
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return statements;
    },
  };
}

describe('npm run snapshot', () => {
  it('brings rows the stream never carried into ClickHouse and analytics, exactly, while the stream goes on', { timeout: 480_000 }, async () => {
    // Users of every age band (and none), in the CRM: the copied rows' enrichment.
    const { rows: users } = await db.crm.query<{ id: number; age: number | null; country: string; gender: string }>(
      `INSERT INTO public.users (name, email, age, gender, country)
       SELECT 'Snapshot ' || i, $1 || '-' || i || '@example.com', (($2::int[])[i]), 'female', 'PT'
       FROM generate_subscripts($2::int[], 1) AS i RETURNING id, age, country, gender`,
      [TAG, AGES],
    );
    const userIds = users.map((u) => u.id);
    // The copy enriches from default.users: the users must have streamed there first (on a
    // fresh stack the users' Kafka-engine consumer can take a minute to join its group).
    await until(
      'the new users in default.users',
      async () => {
        const rs = await ch.query({
          query: 'SELECT count() AS n FROM default.users FINAL WHERE id IN {ids:Array(Int32)}',
          query_params: { ids: userIds },
          format: 'JSONEachRow',
        });
        return Number((await rs.json<{ n: number | string }>())[0]?.n) === userIds.length;
      },
      180_000,
      1_000,
    );
    // Plus one user id nobody has: those events stay user-less.
    const unknownUser = 2_000_000_000;

    expect(await inPublication()).toBe(true);
    const client = await db.telemetry.connect();
    try {
      await client.query('BEGIN');
      await client.query(`ALTER PUBLICATION ${PUBLICATION} DROP TABLE public.telemetry_events`);
      await client.query(
        `INSERT INTO public.telemetry_events (user_id, prosthesis_type, muscle_group, signal_frequency, signal_duration, signal_amplitude, event_timestamp, request_id)
         SELECT CASE WHEN g % 10 = 0 THEN $3::int ELSE ($2::int[])[1 + g % array_length($2::int[], 1)] END,
                (ARRAY['myoelectric_hand','bionic_arm','hybrid_elbow'])[1 + g % 3], (ARRAY['biceps','triceps','deltoid','forearm_flexors'])[1 + g % 4],
                50 + g % 900, 1 + g % 3000, (g % 10007) / 97.0, timestamptz '2026-10-01 00:00:00+00' + make_interval(secs => g * 0.7), $1
         FROM generate_series(1, $4::int) AS g`,
        [TAG, userIds, unknownUser, ROWS],
      );
      await client.query(`ALTER PUBLICATION ${PUBLICATION} ADD TABLE public.telemetry_events`);
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    expect(await inPublication()).toBe(true);

    // The stream carries the users and the churn, never the copied rows: they are missing.
    const before = await diffTable(TELEMETRY_EVENTS, db.telemetry, ch);
    expect(before.missing.length).toBeGreaterThanOrEqual(ROWS);

    const writer = churn();
    const t0 = Date.now();
    const run = await runScript('scripts/snapshot/cli.ts', ['--workers', '3', '--range-pages', '64', '--json']);
    const statements = await writer.stop();
    console.error(`[snapshot.int] snapshot ran ${Date.now() - t0} ms beside ${statements} statements: ${run.stdout.trim()}`);
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout) as { rows: number; ranges: number; analytics: { enriched: number } };
    expect(summary.rows).toBeGreaterThanOrEqual(ROWS - 1_000);
    expect(summary.ranges).toBeGreaterThan(1);
    expect(summary.analytics.enriched).toBeGreaterThan(0);
    expect(statements).toBeGreaterThan(0);

    let last = '';
    await until(
      'ClickHouse to equal PostgreSQL, and the views their recomputation',
      async () => {
        const table = await diffTable(TELEMETRY_EVENTS, db.telemetry, ch);
        const analytics = await diffAnalytics(ch);
        last = JSON.stringify({ missing: table.missing.length, extra: table.extra.length, different: table.different.slice(0, 2), analytics });
        return isEqual(table) && analyticsEqual(analytics);
      },
      150_000,
      2_000,
    ).catch((err: unknown) => {
      throw new Error(`${(err as Error).message}; last difference: ${last}`);
    });

    // Every copied event of a known user carries that user's country, gender and age band.
    const rs = await ch.query({
      query: `SELECT user_id, user_known, country, gender, age_band, count() AS n FROM analytics.telemetry_enriched FINAL
              WHERE request_id = {tag:String} AND _is_deleted = 0 GROUP BY user_id, user_known, country, gender, age_band`,
      query_params: { tag: TAG },
      format: 'JSONEachRow',
    });
    const groups = await rs.json<{ user_id: number; user_known: number; country: string | null; gender: string | null; age_band: string | null }>();
    const byId = new Map(users.map((u) => [u.id, u]));
    for (const g of groups) {
      const u = byId.get(g.user_id);
      if (g.user_id === unknownUser) {
        expect(g).toMatchObject({ user_known: 0, country: null, gender: null, age_band: null });
      } else if (u) {
        expect(g).toMatchObject({ user_known: 1, country: u.country, gender: u.gender, age_band: ageBand(u.age) });
      }
    }
    expect(groups.filter((g) => byId.has(g.user_id)).length).toBe(users.length);
    expect(groups.some((g) => g.user_id === unknownUser)).toBe(true);
  });
});
