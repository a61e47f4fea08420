-- Freshness: where the time from a PostgreSQL commit to a row in ClickHouse goes, and
-- shorter waits in the Kafka engine.
--
-- 1. Each change now keeps the moment it was written to Kafka (the message timestamp,
--    set by Kafka Connect's producer) as _kafka_ts, so the lag splits in two:
--    commit → Kafka (Debezium and Connect) and Kafka → ClickHouse (this engine).
--    debezium.freshness shows both. Rows stored before this migration have
--    _kafka_ts = 1970-01-01 and are left out of the split.
--
-- 2. The Kafka tables wait less. A block of the engine ends after
--    kafka_flush_interval_ms; inside it each poll waits up to kafka_poll_timeout_ms
--    for a full batch; a poll that finds nothing ends the round, and the next one
--    starts after kafka_consumer_reschedule_ms. The shipped 500 / 500 (default) / 500
--    (default) put 0.5–1 s between Kafka and ClickHouse even when idle; 50 / 10 / 25
--    put about 90 ms (p50) there, for a few percent of a core more while idle and
--    no loss of throughput under load (docs/freshness.md has the measurements).
--
-- Kafka table settings cannot be altered: each table is dropped and created again
-- under the same consumer group, which goes on from its committed offsets (a block
-- consumed but not yet committed is read again; every target takes repeats). The
-- columns come first and the views downstream-first, so no view ever selects a
-- column its target lacks.

ALTER TABLE debezium.users_changes ADD COLUMN IF NOT EXISTS _kafka_ts DateTime64(3, 'UTC') AFTER _source_ts;
ALTER TABLE default.users ADD COLUMN IF NOT EXISTS _kafka_ts DateTime64(3, 'UTC') AFTER _source_ts;
ALTER TABLE debezium.telemetry_events_changes ADD COLUMN IF NOT EXISTS _kafka_ts DateTime64(3, 'UTC') AFTER _source_ts;
ALTER TABLE debezium.telemetry_events_merge ADD COLUMN IF NOT EXISTS _kafka_ts DateTime64(3, 'UTC') AFTER _source_ts;

ALTER TABLE debezium.users_current_mv MODIFY QUERY
SELECT
    id, user_uuid, name, email, age, gender, country, address, phone, registered_at,
    _lsn,
    op = 'd' AS _is_deleted,
    _source_ts,
    _kafka_ts,
    now64(3) AS _ingested_at
FROM debezium.users_changes
WHERE error = '';

ALTER TABLE debezium.telemetry_events_mv MODIFY QUERY
SELECT
    op, id, event_uuid, user_id, prosthesis_type, muscle_group, signal_frequency, signal_duration,
    signal_amplitude, event_timestamp, saved_ts, request_id, _lsn, _source_ts, _kafka_ts,
    _partition AS _kafka_partition,
    _offset AS _kafka_offset,
    now64(3) AS _ingested_at
FROM debezium.telemetry_events_changes
WHERE error = '';

DROP VIEW IF EXISTS debezium.users_parse_mv;
DROP TABLE IF EXISTS debezium.users_kafka;

CREATE TABLE IF NOT EXISTS debezium.users_kafka
(
    message String
)
ENGINE = Kafka
SETTINGS
    kafka_broker_list = '${KAFKA_BROKER_LIST}',
    kafka_topic_list = 'crm.public.users',
    kafka_group_name = 'clickhouse-crm-users',
    kafka_format = 'RawBLOB',
    kafka_handle_error_mode = 'stream',
    kafka_num_consumers = 1,
    kafka_max_block_size = 65536,
    kafka_flush_interval_ms = 50,
    kafka_poll_timeout_ms = 10,
    kafka_consumer_reschedule_ms = 25;

-- The view of 0009 with _kafka_ts.
CREATE MATERIALIZED VIEW IF NOT EXISTS debezium.users_parse_mv TO debezium.users_changes AS
WITH
    JSONExtractString(message, 'op') AS change_op,
    if(change_op = 'd', 'before', 'after') AS image,
    JSONExtract(message, image,
        'Tuple(id Nullable(Int32), user_uuid Nullable(String), name Nullable(String), email Nullable(String),
               age Nullable(Int16), gender Nullable(String), country Nullable(String), address Nullable(String),
               phone Nullable(String), registered_at Nullable(String))') AS img,
    JSONExtract(message, 'source', 'Tuple(lsn Nullable(UInt64), ts_ms Nullable(Int64))') AS source,
    toUUIDOrNull(img.user_uuid) AS parsed_uuid,
    parseDateTime64BestEffortOrNull(img.registered_at, 6, 'UTC') AS parsed_registered_at
SELECT
    change_op AS op,
    ifNull(img.id, 0) AS id,
    ifNull(parsed_uuid, toUUID('00000000-0000-0000-0000-000000000000')) AS user_uuid,
    ifNull(img.name, '') AS name,
    ifNull(img.email, '') AS email,
    img.age AS age,
    img.gender AS gender,
    img.country AS country,
    img.address AS address,
    img.phone AS phone,
    ifNull(parsed_registered_at, toDateTime64(0, 6, 'UTC')) AS registered_at,
    ifNull(source.lsn, 0) AS _lsn,
    fromUnixTimestamp64Milli(ifNull(source.ts_ms, 0), 'UTC') AS _source_ts,
    ifNull(_timestamp_ms, toDateTime64(0, 3, 'UTC')) AS _kafka_ts,
    _topic,
    _partition,
    _offset,
    _key,
    if(_error != '', _raw_message, message) AS raw_message,
    multiIf(
        _error != '', _error,
        NOT isValidJSON(message), 'not JSON: the value is not one valid UTF-8 JSON document',
        JSONType(message) != 'Object', concat('not a Debezium change event: the value is a JSON ', lower(toString(JSONType(message))), ', not an object'),
        change_op NOT IN ('r', 'c', 'u', 'd'), 'not a Debezium change event: op is missing or unknown',
        img.id IS NULL, concat('no ', image, '.id'),
        parsed_uuid IS NULL, concat('no valid ', image, '.user_uuid'),
        img.name IS NULL, concat('no ', image, '.name'),
        img.email IS NULL, concat('no ', image, '.email'),
        parsed_registered_at IS NULL, concat('no valid ', image, '.registered_at'),
        ifNull(source.lsn, 0) = 0, 'no source.lsn',
        source.ts_ms IS NULL, 'no source.ts_ms',
        '') AS error
FROM debezium.users_kafka;

DROP VIEW IF EXISTS debezium.telemetry_events_parse_mv;
DROP TABLE IF EXISTS debezium.telemetry_events_kafka;

CREATE TABLE IF NOT EXISTS debezium.telemetry_events_kafka
(
    message String
)
ENGINE = Kafka
SETTINGS
    kafka_broker_list = '${KAFKA_BROKER_LIST}',
    kafka_topic_list = 'telemetry.public.telemetry_events',
    kafka_group_name = 'clickhouse-telemetry-events',
    kafka_format = 'RawBLOB',
    kafka_handle_error_mode = 'stream',
    kafka_num_consumers = 1,
    kafka_max_block_size = 65536,
    kafka_flush_interval_ms = 50,
    kafka_poll_timeout_ms = 10,
    kafka_consumer_reschedule_ms = 25;

-- The view of 0009 with _kafka_ts.
CREATE MATERIALIZED VIEW IF NOT EXISTS debezium.telemetry_events_parse_mv TO debezium.telemetry_events_changes AS
WITH
    JSONExtractString(message, 'op') AS change_op,
    if(change_op = 'd', 'before', 'after') AS image,
    JSONExtract(message, image,
        'Tuple(id Nullable(Int64), event_uuid Nullable(String), user_id Nullable(Int32),
               prosthesis_type Nullable(String), muscle_group Nullable(String), signal_frequency Nullable(Int32),
               signal_duration Nullable(Int32), signal_amplitude Nullable(Float64), event_timestamp Nullable(String),
               saved_ts Nullable(String), request_id Nullable(String))') AS img,
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
    img.request_id AS request_id,
    ifNull(source.lsn, 0) AS _lsn,
    fromUnixTimestamp64Milli(ifNull(source.ts_ms, 0), 'UTC') AS _source_ts,
    ifNull(_timestamp_ms, toDateTime64(0, 3, 'UTC')) AS _kafka_ts,
    _topic,
    _partition,
    _offset,
    _key,
    if(_error != '', _raw_message, message) AS raw_message,
    multiIf(
        _error != '', _error,
        NOT isValidJSON(message), 'not JSON: the value is not one valid UTF-8 JSON document',
        JSONType(message) != 'Object', concat('not a Debezium change event: the value is a JSON ', lower(toString(JSONType(message))), ', not an object'),
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

-- The lag of the last 5 minutes per source table, and its two parts.
--
--   SELECT * FROM debezium.freshness
--
-- lag_*: PostgreSQL commit (Debezium source.ts_ms) → ClickHouse insert.
-- to_kafka_*: commit → Kafka (Debezium's poll interval, Connect's producer).
-- into_clickhouse_*: Kafka → ClickHouse (the Kafka engine's block and the views).
CREATE OR REPLACE VIEW debezium.freshness AS
SELECT
    source_table,
    count() AS changes_5m,
    quantile(0.5)(lag_ms) / 1000 AS lag_p50_s,
    quantile(0.99)(lag_ms) / 1000 AS lag_p99_s,
    max(lag_ms) / 1000 AS lag_max_s,
    quantileIf(0.5)(to_kafka_ms, has_kafka_ts) / 1000 AS to_kafka_p50_s,
    quantileIf(0.99)(to_kafka_ms, has_kafka_ts) / 1000 AS to_kafka_p99_s,
    quantileIf(0.5)(into_clickhouse_ms, has_kafka_ts) / 1000 AS into_clickhouse_p50_s,
    quantileIf(0.99)(into_clickhouse_ms, has_kafka_ts) / 1000 AS into_clickhouse_p99_s,
    max(source_ts) AS last_commit_at,
    max(ingested_at) AS last_ingested_at,
    dateDiff('millisecond', max(ingested_at), now64(3)) / 1000 AS seconds_since_last_change
FROM
(
    SELECT source_table, source_ts, ingested_at,
           greatest(dateDiff('millisecond', source_ts, ingested_at), 0) AS lag_ms,
           kafka_ts > toDateTime64(0, 3, 'UTC') AS has_kafka_ts,
           greatest(dateDiff('millisecond', source_ts, kafka_ts), 0) AS to_kafka_ms,
           greatest(dateDiff('millisecond', kafka_ts, ingested_at), 0) AS into_clickhouse_ms
    FROM
    (
        -- default.users without FINAL on purpose: superseded versions are changes too.
        SELECT 'users' AS source_table, _source_ts AS source_ts, _kafka_ts AS kafka_ts, _ingested_at AS ingested_at
        FROM default.users
        WHERE _ingested_at > now64(3) - INTERVAL 5 MINUTE
        UNION ALL
        SELECT 'telemetry_events', _source_ts, _kafka_ts, _ingested_at
        FROM debezium.telemetry_events_merge
        WHERE _ingested_at > now64(3) - INTERVAL 5 MINUTE
    )
)
GROUP BY source_table;
