-- How far behind is ClickHouse? One query:
--
--   SELECT * FROM debezium.freshness
--
-- Per table, over the changes ingested in the last 5 minutes: the lag from the
-- PostgreSQL commit (Debezium source.ts_ms) to the ClickHouse insert, as p50 / p99 /
-- max in seconds, and the age of the newest change seen. An idle source table shows
-- no recent changes rather than a lag (heartbeats keep the slots moving meanwhile).
-- default.users is read without FINAL on purpose: superseded versions are changes too.
CREATE VIEW IF NOT EXISTS debezium.freshness AS
SELECT
    source_table,
    count() AS changes_5m,
    quantile(0.5)(lag_ms) / 1000 AS lag_p50_s,
    quantile(0.99)(lag_ms) / 1000 AS lag_p99_s,
    max(lag_ms) / 1000 AS lag_max_s,
    max(source_ts) AS last_commit_at,
    max(ingested_at) AS last_ingested_at,
    dateDiff('millisecond', max(ingested_at), now64(3)) / 1000 AS seconds_since_last_change
FROM
(
    SELECT 'users' AS source_table, _source_ts AS source_ts, _ingested_at AS ingested_at,
           greatest(dateDiff('millisecond', _source_ts, _ingested_at), 0) AS lag_ms
    FROM default.users
    WHERE _ingested_at > now64(3) - INTERVAL 5 MINUTE
    UNION ALL
    SELECT 'telemetry_events', _source_ts, _ingested_at,
           greatest(dateDiff('millisecond', _source_ts, _ingested_at), 0)
    FROM debezium.telemetry_events_merge
    WHERE _ingested_at > now64(3) - INTERVAL 5 MINUTE
)
GROUP BY source_table;
