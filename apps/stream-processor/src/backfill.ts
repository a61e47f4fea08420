import type { ClickHouseClient } from '@clickhouse/client';
import { AGE_BANDS } from './users-dimension.js';

/**
 * The analytics of rows that reached default.telemetry_events without Kafka (copied
 * by `npm run snapshot`, scripts/snapshot/copy.ts: _lsn = 0), built inside ClickHouse
 * with the processor's own rules: enrichment by the user's current state
 * (enrich.ts: user_known, country, gender, age band), _version = _lsn * 2 + user_known,
 * then the aggregates of every key those rows touch recomputed from
 * telemetry_enriched FINAL, as clickhouse-sink.ts does.
 *
 * Safe beside the running processor: every write is versioned. A copied row's version
 * (0 or 1) loses to any streamed change of the event (2 × its LSN or more); an
 * aggregate's _computed_at is its statement's start, and a recompute sees every
 * enriched insert that finished before it started, so whichever recompute of a key
 * started last wins and has seen the rows of every earlier one.
 */

/** ageBand() of users-dimension.ts, as a ClickHouse expression over `age`. */
export function ageBandSql(age: string): string {
  const arms = AGE_BANDS.map(([below, band]) => `${age} < ${below}, '${band}'`).join(', ');
  return `multiIf(${age} IS NULL, NULL, ${arms}, '75+')`;
}

export interface BackfillResult {
  /** Copied rows whose current version is still the copy, now enriched. */
  enriched: number;
}

const COPIED = `
  SELECT e.event_uuid, e.id, e.user_id, e.prosthesis_type, e.muscle_group, e.signal_frequency, e.signal_duration,
         e.signal_amplitude, e.event_timestamp, e.request_id,
         u.id != 0 AS user_known,
         if(user_known, u.country, NULL) AS country,
         if(user_known, u.gender, NULL) AS gender,
         if(user_known, ${ageBandSql('u.age')}, NULL) AS age_band,
         e._lsn AS _lsn, e._lsn * 2 + user_known AS _version, toUInt8(0) AS _is_deleted, e._source_ts AS _source_ts
  FROM (SELECT * FROM default.telemetry_events FINAL WHERE _lsn = 0) AS e
  LEFT JOIN (SELECT id, country, gender, age FROM default.users FINAL) AS u ON u.id = e.user_id
  SETTINGS join_use_nulls = 0`;

const COLUMNS =
  'event_uuid, id, user_id, prosthesis_type, muscle_group, signal_frequency, signal_duration, signal_amplitude, ' +
  'event_timestamp, request_id, user_known, country, gender, age_band, _lsn, _version, _is_deleted, _source_ts';

export async function backfillCopiedRows(ch: ClickHouseClient): Promise<BackfillResult> {
  const written = async (query: string) => Number((await ch.command({ query })).summary?.written_rows ?? 0);
  // telemetry_enriched_by_user gets the same rows through its view (clickhouse/0011),
  // and written_rows counts both tables.
  const enriched = (await written(`INSERT INTO analytics.telemetry_enriched (${COLUMNS}) ${COPIED}`)) / 2;
  // The keys of the copied rows (enriched with version ≤ 1), each recomputed whole.
  await written(`
    INSERT INTO analytics.telemetry_by_minute
    SELECT toStartOfMinute(event_timestamp) AS minute, prosthesis_type, muscle_group,
           count() AS events, avg(signal_amplitude) AS avg_amplitude, max(signal_amplitude) AS max_amplitude,
           quantilesExactState(0.5, 0.95)(signal_amplitude) AS amplitude_quantiles,
           now64(6) AS _computed_at, toUInt8(0) AS _is_deleted
    FROM analytics.telemetry_enriched FINAL
    WHERE toStartOfMinute(event_timestamp) IN (SELECT DISTINCT toStartOfMinute(event_timestamp) FROM analytics.telemetry_enriched WHERE _version <= 1)
    GROUP BY minute, prosthesis_type, muscle_group`);
  await written(`
    INSERT INTO analytics.user_activity
    SELECT user_id, count() AS events, min(event_timestamp) AS first_event_at, max(event_timestamp) AS last_event_at,
           argMax(signal_amplitude, (event_timestamp, id)) AS last_amplitude,
           now64(6) AS _computed_at, toUInt8(0) AS _is_deleted
    FROM analytics.telemetry_enriched_by_user FINAL
    WHERE user_id IN (SELECT DISTINCT user_id FROM analytics.telemetry_enriched_by_user WHERE _version <= 1)
    GROUP BY user_id`);
  return { enriched };
}
