-- The door for an initial snapshot or a re-snapshot of telemetry_events that does not
-- go through Kafka (npm run snapshot, scripts/snapshot/): ClickHouse copies the rows
-- from PostgreSQL in parallel key ranges into this Null table, and its view writes the
-- current state:
--
--   telemetry_events_snapshot (Null) ── telemetry_events_snapshot_current_mv ──▶ default.telemetry_events
--
-- Not into the change log (debezium.telemetry_events_merge): a snapshot read is the
-- state of a row, not a change of it. (Debezium's own snapshot reads land there, op
-- 'r', only because they share the topic with the changes.)
--
-- A copied row carries _lsn = 0, below every streamed change (a streamed change always
-- has a source.lsn, or the parse view sends it to kafka_errors). That is what makes a
-- copy exact while the connector keeps streaming: a change committed before the
-- snapshot but delivered after it carries an older state with a higher _lsn, and wins
-- until the stream delivers the row's later changes, the last of which is the state
-- the snapshot saw or a later one. A row no change has touched since keeps the copy.
-- So the copy must start after the connector's slot exists, and is exact from the
-- moment the stream has caught up with the copy's start.
CREATE TABLE IF NOT EXISTS debezium.telemetry_events_snapshot
(
    id               Int64,
    event_uuid       UUID,
    user_id          Int32,
    prosthesis_type  String,
    muscle_group     String,
    signal_frequency Int32,
    signal_duration  Int32,
    signal_amplitude Float64,
    event_timestamp  DateTime64(6, 'UTC'),
    saved_ts         DateTime64(6, 'UTC'),
    request_id       Nullable(String),
    -- When the PostgreSQL snapshot was taken: the rows' _source_ts, as Debezium gives
    -- its snapshot reads the time of the snapshot.
    _snapshot_ts     DateTime64(3, 'UTC')
)
ENGINE = Null;

CREATE MATERIALIZED VIEW IF NOT EXISTS debezium.telemetry_events_snapshot_current_mv TO default.telemetry_events AS
SELECT
    id, event_uuid, user_id, prosthesis_type, muscle_group, signal_frequency, signal_duration,
    signal_amplitude, event_timestamp, saved_ts, request_id,
    toUInt64(0) AS _lsn,
    toUInt8(0) AS _is_deleted,
    _snapshot_ts AS _source_ts,
    now64(3) AS _ingested_at
FROM debezium.telemetry_events_snapshot;
