-- Amplitude p50 / p95 per muscle group and day (last 30 days), from the per-minute aggregates.
-- The exact quantile states of each minute merge into the day's exact quantiles.
SELECT
    toDate(minute) AS day,
    muscle_group,
    sum(events) AS events,
    quantilesExactMerge(0.5, 0.95)(amplitude_quantiles)[1] AS p50_amplitude,
    quantilesExactMerge(0.5, 0.95)(amplitude_quantiles)[2] AS p95_amplitude
FROM analytics.telemetry_by_minute FINAL
WHERE _is_deleted = 0
  AND minute >= toStartOfDay(now()) - INTERVAL 30 DAY
GROUP BY day, muscle_group
ORDER BY day, muscle_group
