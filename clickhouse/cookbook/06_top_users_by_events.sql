-- Who are the 10 most active users (events so far), and when were they last seen?
SELECT
    a.user_id,
    u.country,
    a.events,
    a.last_event_at,
    a.last_amplitude
FROM analytics.user_activity AS a FINAL
LEFT JOIN (SELECT id, country FROM default.users FINAL WHERE _is_deleted = 0) AS u ON u.id = a.user_id
WHERE a._is_deleted = 0
ORDER BY a.events DESC, a.user_id
LIMIT 10
