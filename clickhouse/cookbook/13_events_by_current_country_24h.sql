-- Events of the last 24 hours per user country as it is NOW (the users Join table, via joinGet).
-- Unlike analytics.telemetry_enriched, which keeps the country known when the event was processed.
SELECT
    ifNull(joinGet('debezium.users_join', 'country', user_id), '(unknown)') AS country,
    count() AS events,
    uniqExact(user_id) AS users
FROM default.telemetry_events FINAL
WHERE _is_deleted = 0
  AND event_timestamp >= now64(6) - INTERVAL 1 DAY
GROUP BY country
ORDER BY events DESC, country
