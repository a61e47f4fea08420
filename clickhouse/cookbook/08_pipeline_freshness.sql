-- How far behind PostgreSQL is ClickHouse right now (changes of the last 5 minutes)?
SELECT
    source_table,
    changes_5m,
    lag_p50_s,
    lag_p99_s,
    lag_max_s,
    last_commit_at,
    seconds_since_last_change
FROM debezium.freshness
ORDER BY source_table
