-- Which live users have never sent a (live) telemetry event?
SELECT id, country, age, gender, registered_at
FROM default.users FINAL
WHERE _is_deleted = 0
  AND id NOT IN (SELECT user_id FROM default.telemetry_events FINAL WHERE _is_deleted = 0)
ORDER BY id
