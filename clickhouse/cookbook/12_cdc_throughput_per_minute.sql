-- How many telemetry changes per minute did ClickHouse ingest in the last hour, by kind?
SELECT
    toStartOfMinute(_ingested_at) AS minute,
    count() AS changes,
    countIf(op IN ('c', 'r')) AS inserts,
    countIf(op = 'u') AS updates,
    countIf(op = 'd') AS deletes
FROM debezium.telemetry_events_merge FINAL
WHERE _ingested_at >= now64(3) - INTERVAL 1 HOUR
GROUP BY minute
ORDER BY minute
