import type { ClickHouseClient } from '@clickhouse/client';
import type { Admin } from 'kafkajs';

/**
 * The processor's views against a from-scratch recomputation over the CDC current
 * state (default.telemetry_events FINAL, itself compared with PostgreSQL by
 * cdc-compare.ts). Everything must match exactly except the mean, whose float sum
 * depends on the order rows were added in (relative error < 1e-12).
 */
export interface AnalyticsDiff {
  enriched: { missing: number; extra: number; different: number };
  /** Keys of telemetry_by_minute whose numbers differ (or exist on one side only). */
  byMinuteDifferent: number;
  byMinuteKeys: number;
  worstAvgRelativeError: number;
  /** Users of user_activity whose numbers differ (or exist on one side only). */
  userActivityDifferent: number;
}

export const analyticsEqual = (d: AnalyticsDiff) =>
  d.enriched.missing + d.enriched.extra + d.enriched.different + d.byMinuteDifferent + d.userActivityDifferent === 0 &&
  d.worstAvgRelativeError < 1e-12;

async function rows<T>(ch: ClickHouseClient, query: string): Promise<T[]> {
  const rs = await ch.query({ query, format: 'JSONEachRow', clickhouse_settings: { output_format_json_quote_64bit_integers: 0 } });
  return rs.json<T>();
}

const NIL = "toUUID('00000000-0000-0000-0000-000000000000')";

export async function diffAnalytics(ch: ClickHouseClient): Promise<AnalyticsDiff> {
  const [enriched] = await rows<AnalyticsDiff['enriched']>(
    ch,
    `SELECT countIf(e.event_uuid = ${NIL}) AS missing,
            countIf(t.event_uuid = ${NIL}) AS extra,
            countIf(e.event_uuid != ${NIL} AND t.event_uuid != ${NIL}
                    AND (e.id, e.user_id, e.prosthesis_type, e.muscle_group, e.signal_frequency, e.signal_duration, e.signal_amplitude, e.event_timestamp)
                     != (t.id, t.user_id, t.prosthesis_type, t.muscle_group, t.signal_frequency, t.signal_duration, t.signal_amplitude, t.event_timestamp)) AS different
     FROM (SELECT * FROM default.telemetry_events FINAL) AS t
     FULL OUTER JOIN (SELECT * FROM analytics.telemetry_enriched FINAL) AS e ON e.event_uuid = t.event_uuid
     SETTINGS join_use_nulls = 0`,
  );

  type MinuteRow = { k: string; rest: string; avg_amplitude: number };
  const byMinute = (source: string) => `
    SELECT concat(toString(minute), '|', prosthesis_type, '|', muscle_group) AS k,
           toJSONString((events, max_amplitude, p50_amplitude, p95_amplitude)) AS rest, avg_amplitude
    FROM (${source})`;
  const fromProcessor = await rows<MinuteRow>(ch, byMinute('SELECT * FROM analytics.telemetry_by_minute_v WHERE events > 0'));
  const recomputed = await rows<MinuteRow>(
    ch,
    byMinute(`
      SELECT toStartOfMinute(event_timestamp) AS minute, prosthesis_type, muscle_group, count() AS events,
             avg(signal_amplitude) AS avg_amplitude, max(signal_amplitude) AS max_amplitude,
             quantilesExact(0.5, 0.95)(signal_amplitude) AS q, q[1] AS p50_amplitude, q[2] AS p95_amplitude
      FROM default.telemetry_events FINAL GROUP BY minute, prosthesis_type, muscle_group`),
  );
  const expected = new Map(recomputed.map((r) => [r.k, r]));
  const actual = new Map(fromProcessor.map((r) => [r.k, r]));
  const keys = new Set([...expected.keys(), ...actual.keys()]);
  let byMinuteDifferent = 0;
  let worstAvgRelativeError = 0;
  for (const k of keys) {
    const a = actual.get(k);
    const e = expected.get(k);
    if (!a || !e || a.rest !== e.rest) byMinuteDifferent++;
    if (a && e) worstAvgRelativeError = Math.max(worstAvgRelativeError, Math.abs(a.avg_amplitude - e.avg_amplitude) / Math.max(1, Math.abs(e.avg_amplitude)));
  }

  const [activity] = await rows<{ different: number }>(
    ch,
    `SELECT count() AS different FROM
     (
        SELECT user_id, events, first_event_at, last_event_at, last_amplitude FROM analytics.user_activity FINAL WHERE events > 0
        EXCEPT
        SELECT user_id, count(), min(event_timestamp), max(event_timestamp), argMax(signal_amplitude, (event_timestamp, id))
        FROM default.telemetry_events FINAL GROUP BY user_id
     ) UNION ALL SELECT count() FROM
     (
        SELECT user_id, count(), min(event_timestamp), max(event_timestamp), argMax(signal_amplitude, (event_timestamp, id))
        FROM default.telemetry_events FINAL GROUP BY user_id
        EXCEPT
        SELECT user_id, events, first_event_at, last_event_at, last_amplitude FROM analytics.user_activity FINAL WHERE events > 0
     )`,
  ).then((rs) => [{ different: rs.reduce((n, r) => n + Number(r.different), 0) }]);

  return {
    enriched: { missing: Number(enriched!.missing), extra: Number(enriched!.extra), different: Number(enriched!.different) },
    byMinuteDifferent,
    byMinuteKeys: keys.size,
    worstAvgRelativeError,
    userActivityDifferent: activity!.different,
  };
}

/** The consumer group's committed offsets have reached every partition's end. */
export async function groupCaughtUp(admin: Admin, groupId: string, topic: string): Promise<boolean> {
  const high = await admin.fetchTopicOffsets(topic);
  const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
  return high.every((h) => {
    const c = committed!.partitions.find((p) => p.partition === h.partition);
    // An empty partition has nothing to commit (offset -1).
    return BigInt(h.high) === 0n || (c !== undefined && BigInt(c.offset) >= BigInt(h.high));
  });
}
