-- Which prosthesis type / muscle group sensors drift: average amplitude of the last 24 hours against the 7 days before?
-- Only pairs with events in both windows; drift_pct > 0 means the signal got stronger.
SELECT
    prosthesis_type,
    muscle_group,
    countIf(recent) AS events_last_day,
    countIf(NOT recent) AS events_prev_7d,
    round(avgIf(signal_amplitude, recent), 3) AS avg_last_day,
    round(avgIf(signal_amplitude, NOT recent), 3) AS avg_prev_7d,
    round(100 * (avg_last_day - avg_prev_7d) / avg_prev_7d, 1) AS drift_pct
FROM
(
    SELECT prosthesis_type, muscle_group, signal_amplitude,
           event_timestamp >= now64(6) - INTERVAL 1 DAY AS recent
    FROM analytics.telemetry_enriched FINAL
    WHERE _is_deleted = 0
      AND event_timestamp >= now64(6) - INTERVAL 8 DAY
      AND event_timestamp < now64(6)
)
GROUP BY prosthesis_type, muscle_group
HAVING events_last_day > 0 AND events_prev_7d > 0
ORDER BY abs(drift_pct) DESC, prosthesis_type, muscle_group
