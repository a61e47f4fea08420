-- How many events per prosthesis type per hour (last 24 hours)?
SELECT
    toStartOfHour(minute) AS hour,
    prosthesis_type,
    sum(events) AS hour_events,
    round(sum(avg_amplitude * events) / hour_events, 3) AS avg_amplitude
FROM analytics.telemetry_by_minute FINAL
WHERE _is_deleted = 0
  AND minute >= toStartOfHour(now()) - INTERVAL 24 HOUR
GROUP BY hour, prosthesis_type
ORDER BY hour, prosthesis_type
