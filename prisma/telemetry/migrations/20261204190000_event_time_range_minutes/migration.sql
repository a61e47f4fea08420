-- Event times narrowed to 1970-01-01 … 2105-12-31 (UTC). The previous range
-- (1900 … 2299) was DateTime64's, which keeps the events; but the per-minute
-- aggregates (analytics.telemetry_by_minute) bucket by DateTime, which holds only
-- 1970 … 2106-02-07, so an event outside would be stored and mis-bucketed there.
-- NOT VALID again: rows already stored are left as they are; new and updated rows
-- are checked.
ALTER TABLE telemetry_events DROP CONSTRAINT IF EXISTS telemetry_events_event_timestamp_range;
ALTER TABLE telemetry_events
  ADD CONSTRAINT telemetry_events_event_timestamp_range
  CHECK (event_timestamp >= '1970-01-01T00:00:00Z' AND event_timestamp < '2106-01-01T00:00:00Z') NOT VALID;
