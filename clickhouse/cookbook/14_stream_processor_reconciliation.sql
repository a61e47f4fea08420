-- Has the stream processor caught up: live events in the current state against rows in analytics.telemetry_enriched?
SELECT
    (SELECT count() FROM default.telemetry_events FINAL WHERE _is_deleted = 0) AS source_events,
    (SELECT count() FROM analytics.telemetry_enriched FINAL WHERE _is_deleted = 0) AS enriched_events,
    (SELECT countIf(user_known = 0) FROM analytics.telemetry_enriched FINAL WHERE _is_deleted = 0) AS enriched_without_user,
    source_events - enriched_events AS missing_from_analytics
