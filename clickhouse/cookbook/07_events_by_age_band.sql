-- How are events distributed over the users' age bands?
SELECT
    ifNull(age_band, '(unknown)') AS age_band,
    count() AS events,
    uniqExact(user_id) AS users,
    round(100 * events / sum(events) OVER (), 1) AS pct_of_events
FROM analytics.telemetry_enriched FINAL
WHERE _is_deleted = 0
GROUP BY age_band
ORDER BY age_band
