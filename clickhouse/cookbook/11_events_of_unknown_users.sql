-- Which live telemetry events belong to users that are not (or no longer) in the CRM?
-- An id with no version at all joins as s.id = 0 (join_use_nulls is off).
SELECT
    e.user_id,
    if(s.id = 0, 'never seen', 'deleted') AS user_status,
    count() AS events,
    min(e.event_timestamp) AS first_event_at,
    max(e.event_timestamp) AS last_event_at
FROM default.telemetry_events AS e FINAL
LEFT JOIN
(
    SELECT id, argMax(_is_deleted, _lsn) AS is_deleted
    FROM default.users
    GROUP BY id
) AS s ON s.id = e.user_id
WHERE e._is_deleted = 0
  AND (s.id = 0 OR s.is_deleted = 1)
GROUP BY e.user_id, user_status
ORDER BY events DESC, e.user_id
