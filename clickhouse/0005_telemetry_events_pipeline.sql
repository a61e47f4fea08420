-- telemetry.public.telemetry_events (Debezium, JSON without schemas) → ClickHouse.
--
--   telemetry_events_kafka ──telemetry_events_parse_mv──▶ telemetry_events_changes (Null)
--        ├─ telemetry_events_mv ─────────▶ telemetry_events_merge    every change, once
--        ├─ telemetry_events_current_mv ─▶ default.telemetry_events  current state (FINAL)
--        └─ telemetry_events_errors_mv ──▶ kafka_errors              unusable messages
--
-- The same shape as the users pipeline (0004), for the same reasons.

CREATE TABLE IF NOT EXISTS debezium.telemetry_events_changes
(
    op               LowCardinality(String),
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
    _lsn             UInt64,
    _source_ts       DateTime64(3, 'UTC'),
    _topic           LowCardinality(String),
    _partition       UInt64,
    _offset          UInt64,
    _key             String,
    raw_message      String,
    error            String
)
ENGINE = Null;

-- The change log: one row per change (op r/c/u/d, the row image, LSN, commit time),
-- kept for 30 days. Keyed by (id, _lsn), so a change Kafka delivered twice is
-- stored once after merges (and by FINAL at once).
CREATE TABLE IF NOT EXISTS debezium.telemetry_events_merge
(
    op               LowCardinality(String),
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
    _source_ts       DateTime64(3, 'UTC'),
    _kafka_partition UInt64,
    _kafka_offset    UInt64,
    _ingested_at     DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree
ORDER BY (id, _lsn)
TTL toDateTime(_ingested_at) + INTERVAL 30 DAY;

CREATE MATERIALIZED VIEW IF NOT EXISTS debezium.telemetry_events_mv TO debezium.telemetry_events_merge AS
SELECT
    op, id, event_uuid, user_id, prosthesis_type, muscle_group, signal_frequency, signal_duration,
    signal_amplitude, event_timestamp, saved_ts, _lsn, _source_ts,
    _partition AS _kafka_partition,
    _offset AS _kafka_offset,
    now64(3) AS _ingested_at
FROM debezium.telemetry_events_changes
WHERE error = '';

CREATE MATERIALIZED VIEW IF NOT EXISTS debezium.telemetry_events_current_mv TO default.telemetry_events AS
SELECT
    id, event_uuid, user_id, prosthesis_type, muscle_group, signal_frequency, signal_duration,
    signal_amplitude, event_timestamp, saved_ts,
    _lsn,
    op = 'd' AS _is_deleted,
    _source_ts,
    now64(3) AS _ingested_at
FROM debezium.telemetry_events_changes
WHERE error = '';

CREATE MATERIALIZED VIEW IF NOT EXISTS debezium.telemetry_events_errors_mv TO debezium.kafka_errors AS
SELECT
    now64(3) AS received_at,
    _topic AS topic,
    _partition AS partition,
    _offset AS offset,
    _key AS kafka_key,
    error,
    raw_message
FROM debezium.telemetry_events_changes
WHERE error != '';

CREATE TABLE IF NOT EXISTS debezium.telemetry_events_kafka
(
    message String
)
ENGINE = Kafka
SETTINGS
    kafka_broker_list = '${KAFKA_BROKER_LIST}',
    kafka_topic_list = 'telemetry.public.telemetry_events',
    kafka_group_name = 'clickhouse-telemetry-events',
    kafka_format = 'JSONAsString',
    kafka_handle_error_mode = 'stream',
    kafka_num_consumers = 1,
    kafka_flush_interval_ms = 500,
    kafka_max_block_size = 65536;

CREATE MATERIALIZED VIEW IF NOT EXISTS debezium.telemetry_events_parse_mv TO debezium.telemetry_events_changes AS
WITH
    JSONExtractString(message, 'op') AS change_op,
    if(change_op = 'd', 'before', 'after') AS image,
    JSONExtract(message, image,
        'Tuple(id Nullable(Int64), event_uuid Nullable(String), user_id Nullable(Int32),
               prosthesis_type Nullable(String), muscle_group Nullable(String), signal_frequency Nullable(Int32),
               signal_duration Nullable(Int32), signal_amplitude Nullable(Float64), event_timestamp Nullable(String),
               saved_ts Nullable(String))') AS img,
    JSONExtract(message, 'source', 'Tuple(lsn Nullable(UInt64), ts_ms Nullable(Int64))') AS source,
    toUUIDOrNull(img.event_uuid) AS parsed_uuid,
    parseDateTime64BestEffortOrNull(img.event_timestamp, 6, 'UTC') AS parsed_event_timestamp,
    parseDateTime64BestEffortOrNull(img.saved_ts, 6, 'UTC') AS parsed_saved_ts
SELECT
    change_op AS op,
    ifNull(img.id, 0) AS id,
    ifNull(parsed_uuid, toUUID('00000000-0000-0000-0000-000000000000')) AS event_uuid,
    ifNull(img.user_id, 0) AS user_id,
    ifNull(img.prosthesis_type, '') AS prosthesis_type,
    ifNull(img.muscle_group, '') AS muscle_group,
    ifNull(img.signal_frequency, 0) AS signal_frequency,
    ifNull(img.signal_duration, 0) AS signal_duration,
    ifNull(img.signal_amplitude, 0) AS signal_amplitude,
    ifNull(parsed_event_timestamp, toDateTime64(0, 6, 'UTC')) AS event_timestamp,
    ifNull(parsed_saved_ts, toDateTime64(0, 6, 'UTC')) AS saved_ts,
    ifNull(source.lsn, 0) AS _lsn,
    fromUnixTimestamp64Milli(ifNull(source.ts_ms, 0), 'UTC') AS _source_ts,
    _topic,
    _partition,
    _offset,
    _key,
    if(_error != '', _raw_message, message) AS raw_message,
    multiIf(
        _error != '', _error,
        change_op NOT IN ('r', 'c', 'u', 'd'), 'not a Debezium change event: op is missing or unknown',
        img.id IS NULL, concat('no ', image, '.id'),
        parsed_uuid IS NULL, concat('no valid ', image, '.event_uuid'),
        img.user_id IS NULL, concat('no ', image, '.user_id'),
        img.prosthesis_type IS NULL, concat('no ', image, '.prosthesis_type'),
        img.muscle_group IS NULL, concat('no ', image, '.muscle_group'),
        img.signal_frequency IS NULL, concat('no ', image, '.signal_frequency'),
        img.signal_duration IS NULL, concat('no ', image, '.signal_duration'),
        img.signal_amplitude IS NULL, concat('no ', image, '.signal_amplitude'),
        parsed_event_timestamp IS NULL, concat('no valid ', image, '.event_timestamp'),
        parsed_saved_ts IS NULL, concat('no valid ', image, '.saved_ts'),
        ifNull(source.lsn, 0) = 0, 'no source.lsn',
        source.ts_ms IS NULL, 'no source.ts_ms',
        '') AS error
FROM debezium.telemetry_events_kafka;
