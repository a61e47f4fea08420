-- The Telemetry API's request id (X-Request-Id) of the request that stored the event,
-- so one event can be followed end to end (`npm run trace`). NULL for events written
-- otherwise (SQL, CSV import). ClickHouse has the column already (clickhouse/0008).
ALTER TABLE telemetry_events ADD COLUMN request_id text;
