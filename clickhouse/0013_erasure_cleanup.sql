-- The other half of 0012: replaced parts are deleted by each table's cleanup task,
-- which backs off while it finds little to delete, up to max_cleanup_delay_period
-- (5 minutes by default): an erased row's old part could stay on disk that long after
-- old_parts_lifetime. With the maximum equal to the minimum the task runs every 10 s,
-- so a replaced part is gone from disk at most old_parts_lifetime + 10 s (40 s) after
-- the erasure. A run only lists the table's parts: every 10 s costs nothing to speak of.
ALTER TABLE default.users MODIFY SETTING
  cleanup_delay_period = 10, max_cleanup_delay_period = 10, cleanup_delay_period_random_add = 0;
ALTER TABLE debezium.kafka_errors MODIFY SETTING
  cleanup_delay_period = 10, max_cleanup_delay_period = 10, cleanup_delay_period_random_add = 0;
