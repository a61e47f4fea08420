import type { ClickHouseClient } from '@clickhouse/client';
import type { Enriched, EnrichedRow, Touched } from './enrich.js';
import type { UserDims } from './users-dimension.js';

/**
 * Writes to the analytics tables of clickhouse/0007_analytics.sql. Every write is
 * idempotent (a replayed batch writes the same versions or recomputes the same
 * numbers), which is what turns at-least-once consumption into exactly-once views.
 */
export interface AnalyticsSink {
  insertEnriched(enriched: Enriched): Promise<void>;
  /** Recomputes the aggregates of every key in `touched` from telemetry_enriched. */
  recompute(touched: Touched): Promise<void>;
  /** Re-enriches the user-less events of a user who is now known. */
  reenrich(userId: number, dims: UserDims): Promise<void>;
  /** Users with user-less events, as stored (to resume re-enrichment after a restart). */
  unknownUsers(): Promise<number[]>;
  ping(): Promise<void>;
}

// ClickHouse parses the ISO timestamps Debezium writes only in best-effort mode.
const INSERT_SETTINGS = { date_time_input_format: 'best_effort' } as const;

export function createAnalyticsSink(ch: ClickHouseClient): AnalyticsSink {
  return {
    async insertEnriched({ rows, minuteTombstones, userTombstones }) {
      const write = async (table: string, values: EnrichedRow[]) => {
        if (values.length === 0) return;
        await ch.insert({
          table,
          values: values.map((r) => ({ ...r, _source_ts: new Date(r._source_ts).toISOString() })),
          format: 'JSONEachRow',
          clickhouse_settings: INSERT_SETTINGS,
        });
      };
      // Tombstones first: within one insert a row and its tombstone never share a key,
      // and across inserts the versions decide anyway.
      await write('analytics.telemetry_enriched', [...minuteTombstones, ...rows]);
      await write('analytics.telemetry_enriched_by_user', [...userTombstones, ...rows]);
    },

    async recompute(touched) {
      const keys = [...touched.minutes.values()];
      if (keys.length > 0) {
        // Keys without events any more get a row marked deleted (LEFT JOIN defaults).
        await ch.command({
          query: `
            INSERT INTO analytics.telemetry_by_minute
            SELECT k.1 AS minute, k.2 AS prosthesis_type, k.3 AS muscle_group,
                   a.events, a.avg_amplitude, a.max_amplitude, a.amplitude_quantiles,
                   now64(6) AS _computed_at, a.events = 0 AS _is_deleted
            FROM (SELECT arrayJoin(arrayZip({minutes:Array(DateTime('UTC'))}, {types:Array(String)}, {muscles:Array(String)})) AS k) AS keys
            LEFT JOIN
            (
                SELECT toStartOfMinute(event_timestamp) AS minute, prosthesis_type, muscle_group,
                       count() AS events, avg(signal_amplitude) AS avg_amplitude, max(signal_amplitude) AS max_amplitude,
                       quantilesExactState(0.5, 0.95)(signal_amplitude) AS amplitude_quantiles
                FROM analytics.telemetry_enriched FINAL
                WHERE toStartOfMinute(event_timestamp) IN {minutes:Array(DateTime('UTC'))}
                GROUP BY minute, prosthesis_type, muscle_group
            ) AS a ON a.minute = k.1 AND a.prosthesis_type = k.2 AND a.muscle_group = k.3
            SETTINGS join_use_nulls = 0`,
          query_params: {
            minutes: keys.map((k) => k.minute),
            types: keys.map((k) => k.prosthesis_type),
            muscles: keys.map((k) => k.muscle_group),
          },
        });
      }
      if (touched.users.size > 0) {
        await ch.command({
          query: `
            INSERT INTO analytics.user_activity
            SELECT k.u AS user_id, a.events, a.first_event_at, a.last_event_at, a.last_amplitude,
                   now64(6) AS _computed_at, a.events = 0 AS _is_deleted
            FROM (SELECT arrayJoin({users:Array(Int32)}) AS u) AS k
            LEFT JOIN
            (
                SELECT user_id, count() AS events,
                       min(event_timestamp) AS first_event_at, max(event_timestamp) AS last_event_at,
                       argMax(signal_amplitude, (event_timestamp, id)) AS last_amplitude
                FROM analytics.telemetry_enriched_by_user FINAL
                WHERE user_id IN {users:Array(Int32)}
                GROUP BY user_id
            ) AS a ON a.user_id = k.u
            SETTINGS join_use_nulls = 0`,
          query_params: { users: [...touched.users] },
        });
      }
    },

    async reenrich(userId, dims) {
      // Copies the current user-less rows with the user's fields and the higher
      // version of the same change (_lsn * 2 + 1), into both tables; a newer change
      // of an event written meanwhile has a higher version still and keeps winning.
      for (const table of ['analytics.telemetry_enriched', 'analytics.telemetry_enriched_by_user']) {
        await ch.command({
          query: `
            INSERT INTO ${table}
            SELECT event_uuid, id, user_id, prosthesis_type, muscle_group, signal_frequency, signal_duration,
                   signal_amplitude, event_timestamp, 1 AS user_known,
                   {country:Nullable(String)} AS country, {gender:Nullable(String)} AS gender,
                   {age_band:Nullable(String)} AS age_band,
                   _lsn, _lsn * 2 + 1 AS _version, _is_deleted, _source_ts, now64(3) AS _processed_at
            FROM analytics.telemetry_enriched_by_user FINAL
            WHERE user_id = {user:Int32} AND user_known = 0`,
          query_params: { user: userId, country: dims.country, gender: dims.gender, age_band: dims.age_band },
        });
      }
    },

    async unknownUsers() {
      const rs = await ch.query({
        query: 'SELECT DISTINCT user_id FROM analytics.telemetry_enriched_by_user FINAL WHERE user_known = 0',
        format: 'JSONEachRow',
      });
      return (await rs.json<{ user_id: number }>()).map((r) => Number(r.user_id));
    },

    async ping() {
      await ch.query({ query: 'SELECT 1', format: 'JSONEachRow' }).then((rs) => rs.json());
    },
  };
}
