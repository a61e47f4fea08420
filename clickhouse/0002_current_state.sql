-- The current state of crm_db.users and telemetry_db.telemetry_events.
--
--   SELECT … FROM default.users FINAL            -- exactly the rows of crm_db.users
--
-- Every Debezium change (snapshot read, insert, update, delete) is appended as a row;
-- ReplacingMergeTree keeps, per id, the row with the highest _lsn: the position of
-- the change in PostgreSQL's write-ahead log. Changes of one row are committed in
-- WAL order (the row lock sees to that), so the highest LSN is the latest state,
-- whatever order or how many times Kafka delivers them. Never wall-clock time: two
-- changes within one millisecond, or a redelivered old change, would be misordered.
-- A delete is a row with _is_deleted = 1; FINAL leaves such ids out.
--
-- Columns mirror the PostgreSQL columns one to one (same names, same values);
-- Nullable exactly where PostgreSQL allows NULL. The `_` columns are the pipeline's:
--   _lsn          source.lsn of the change (the version)
--   _is_deleted   1 for a delete
--   _source_ts    source.ts_ms: when the change was committed in PostgreSQL
--   _ingested_at  when ClickHouse stored it; _ingested_at - _source_ts is the lag
CREATE TABLE IF NOT EXISTS default.users
(
    id            Int32,
    user_uuid     UUID,
    name          String,
    email         String,
    age           Nullable(Int16),
    gender        LowCardinality(Nullable(String)),
    country       LowCardinality(Nullable(String)),
    address       Nullable(String),
    phone         Nullable(String),
    registered_at DateTime64(6, 'UTC'),
    _lsn          UInt64,
    _is_deleted   UInt8,
    _source_ts    DateTime64(3, 'UTC'),
    _ingested_at  DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(_lsn, _is_deleted)
ORDER BY id;

-- ORDER BY id, not by time: the sorting key is what ReplacingMergeTree deduplicates
-- on, and it must be the row's identity. No PARTITION BY for the same reason: FINAL
-- collapses versions only within a partition, and an update may move a row's time.
CREATE TABLE IF NOT EXISTS default.telemetry_events
(
    id               Int64,
    event_uuid       UUID,
    user_id          Int32,
    prosthesis_type  LowCardinality(String),
    muscle_group     LowCardinality(String),
    signal_frequency Int32,
    signal_duration  Int32,
    signal_amplitude Float64,
    event_timestamp  DateTime64(6, 'UTC'),
    saved_ts         DateTime64(6, 'UTC'),
    _lsn             UInt64,
    _is_deleted      UInt8,
    _source_ts       DateTime64(3, 'UTC'),
    _ingested_at     DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(_lsn, _is_deleted)
ORDER BY id;
