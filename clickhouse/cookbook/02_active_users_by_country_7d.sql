-- How many distinct users sent telemetry in the last 7 days, per country (country as known when the event was enriched)?
SELECT
    ifNull(country, '(unknown)') AS country,
    uniqExact(user_id) AS active_users,
    count() AS events
FROM analytics.telemetry_enriched FINAL
WHERE _is_deleted = 0
  AND event_timestamp >= now64(6) - INTERVAL 7 DAY
GROUP BY country
ORDER BY active_users DESC, country
