-- How many users are live and how many were deleted in PostgreSQL?
-- Not FINAL: FINAL leaves deleted ids out. The latest version (highest _lsn) of each id decides.
SELECT
    countIf(is_deleted = 0) AS live_users,
    countIf(is_deleted = 1) AS deleted_users,
    count() AS users_ever_seen
FROM
(
    SELECT id, argMax(_is_deleted, _lsn) AS is_deleted
    FROM default.users
    GROUP BY id
)
