-- Event times ClickHouse can store (DateTime64: 1900-01-01 … 2299-12-31). An event
-- outside would sit in PostgreSQL and never reach ClickHouse or the views; the API
-- and the CSV import refuse it with a clear error, and this refuses it for any other
-- writer. NOT VALID: rows already stored are left as they are (they were checked by
-- nothing before); new and updated rows are checked.
ALTER TABLE telemetry_events
  ADD CONSTRAINT telemetry_events_event_timestamp_range
  CHECK (event_timestamp >= '1900-01-01T00:00:00Z' AND event_timestamp < '2300-01-01T00:00:00Z') NOT VALID;
