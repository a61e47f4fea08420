import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { ClickHouseClient } from '@clickhouse/client';
import type { Enriched, EnrichedRow, Touched } from './enrich.js';
import { encodeRows, ROW_COLUMNS } from './row-tsv.js';
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
  /** Re-enriches the user-less events of a user who is now known; returns the rows written. */
  reenrich(userId: number, dims: UserDims): Promise<EnrichedRow[]>;
  /** Users with user-less events, as stored (to resume re-enrichment after a restart). */
  unknownUsers(): Promise<number[]>;
  ping(): Promise<void>;
}

export function createAnalyticsSink(ch: ClickHouseClient): AnalyticsSink {
  const insertEnriched: AnalyticsSink['insertEnriched'] = async ({ rows, tombstones }) => {
    if (rows.length === 0 && tombstones.length === 0) return;
    // One insert: telemetry_enriched_by_user is filled by its view (clickhouse/0011),
    // so ClickHouse parses the rows once. Rows and tombstones may share a key (an
    // update that moved the event in one table only); their versions decide, in any order.
    const { stream } = await ch.exec({
      query: `INSERT INTO analytics.telemetry_enriched (${ROW_COLUMNS}) FORMAT TabSeparated`,
      // exec, not insert: insert encodes only JSON formats itself.
      values: Readable.from([encodeRows(tombstones), encodeRows(rows)], { objectMode: false }),
    });
    stream.resume();
    await finished(stream);
  };

  const recomputeMinutes = async (touched: Touched): Promise<void> => {
    const keys = [...touched.minutes.values()];
    if (keys.length === 0) return;
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
  };

  const recomputeUsers = async (touched: Touched): Promise<void> => {
    if (touched.users.size === 0) return;
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
  };

  return {
    insertEnriched,

    async recompute(touched) {
      // Two independent aggregates: both recomputes run at once.
      await Promise.all([recomputeMinutes(touched), recomputeUsers(touched)]);
    },

    async reenrich(userId, dims) {
      // The user's current user-less rows, written again with the user's fields and
      // the higher version of the same change (_lsn * 2 + 1) into both tables; a newer
      // change of an event written meanwhile has a higher version still and keeps winning.
      const rs = await ch.query({
        query: `
          SELECT toString(event_uuid) AS event_uuid, toString(id) AS id, user_id, prosthesis_type, muscle_group,
                 signal_frequency, signal_duration, signal_amplitude, toString(event_timestamp) AS event_timestamp,
                 request_id, toString(_lsn) AS _lsn, toString(toUnixTimestamp64Milli(_source_ts)) AS _source_ts
          FROM analytics.telemetry_enriched_by_user FINAL
          WHERE user_id = {user:Int32} AND user_known = 0 AND _is_deleted = 0`,
        query_params: { user: userId },
        format: 'JSONEachRow',
      });
      type Stored = Omit<EnrichedRow, 'id' | '_source_ts' | 'user_known' | 'country' | 'gender' | 'age_band' | '_version' | '_is_deleted'> & {
        id: string;
        _source_ts: string;
      };
      const rows: EnrichedRow[] = (await rs.json<Stored>()).map((r) => ({
        ...r,
        id: Number(r.id),
        _source_ts: Number(r._source_ts),
        user_known: 1,
        country: dims.country,
        gender: dims.gender,
        age_band: dims.age_band,
        _version: (BigInt(r._lsn) * 2n + 1n).toString(),
        _is_deleted: 0,
      }));
      await insertEnriched({ rows, tombstones: [], changes: rows });
      return rows;
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
