-- Every message of a consumed topic leaves a trace in ClickHouse: a change applied, a
-- row in debezium.kafka_errors, or a counted skip (debezium.kafka_trace).
--
-- Until now the Kafka tables read values as JSONAsString, a reader of a *stream* of
-- JSON objects: in one message it skipped `;`, whitespace and `[]` without a row and
-- without an error, and split an array or concatenated objects into several rows.
-- RawBLOB hands the parse view each value whole, as one row, and the view decides:
-- not one UTF-8 JSON document, or JSON that is not an object, is an error row like any
-- other unusable message.
--
-- What still has no row is a value the engine never hands over: a tombstone (null;
-- Debezium writes one after each delete, for compaction) or an empty value. They are
-- skips, counted per partition as the offsets between the first and last one seen that
-- have no row (debezium.kafka_offsets below); on a compacted topic read from the
-- beginning, offsets removed by compaction count there too.
--
-- A Kafka table's format cannot be altered: each is dropped and created again under
-- the same consumer group, which goes on from its committed offsets (a block consumed
-- but not yet committed is read again; every target takes repeats). The offsets
-- ledger's views come first, so no block passes without being counted.

CREATE TABLE IF NOT EXISTS debezium.kafka_offsets
(
    topic        LowCardinality(String),
    partition    UInt64,
    -- Every offset that produced a row (change or error): a roaring bitmap, about one
    -- bit per offset in dense ranges.
    offsets      AggregateFunction(groupBitmap, UInt64),
    first_offset SimpleAggregateFunction(min, UInt64),
    last_offset  SimpleAggregateFunction(max, UInt64)
)
ENGINE = AggregatingMergeTree
ORDER BY (topic, partition);

CREATE MATERIALIZED VIEW IF NOT EXISTS debezium.users_offsets_mv TO debezium.kafka_offsets AS
SELECT _topic AS topic, _partition AS partition, groupBitmapState(_offset) AS offsets, min(_offset) AS first_offset, max(_offset) AS last_offset
FROM debezium.users_changes
GROUP BY topic, partition;

CREATE MATERIALIZED VIEW IF NOT EXISTS debezium.telemetry_events_offsets_mv TO debezium.kafka_offsets AS
SELECT _topic AS topic, _partition AS partition, groupBitmapState(_offset) AS offsets, min(_offset) AS first_offset, max(_offset) AS last_offset
FROM debezium.telemetry_events_changes
GROUP BY topic, partition;

-- Per topic and partition, what became of every offset from the first to the last
-- one ClickHouse has seen:
--
--   SELECT * FROM debezium.kafka_trace
--
-- changes + errors + skipped = last_offset - first_offset + 1. errors counts offsets
-- with a row in kafka_errors (kept 30 days); skipped counts tombstones, empty values
-- and offsets compaction removed before ClickHouse read them.
CREATE VIEW IF NOT EXISTS debezium.kafka_trace AS
SELECT
    o.topic AS topic,
    o.partition AS partition,
    o.first_offset AS first_offset,
    o.last_offset AS last_offset,
    o.with_row - ifNull(e.errors, 0) AS changes,
    ifNull(e.errors, 0) AS errors,
    o.last_offset - o.first_offset + 1 - o.with_row AS skipped
FROM
(
    SELECT topic, partition, min(first_offset) AS first_offset, max(last_offset) AS last_offset, groupBitmapMerge(offsets) AS with_row
    FROM debezium.kafka_offsets
    GROUP BY topic, partition
) AS o
LEFT JOIN
(
    SELECT topic, partition, uniqExact(offset) AS errors
    FROM debezium.kafka_errors
    GROUP BY topic, partition
) AS e ON e.topic = o.topic AND e.partition = o.partition;

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
    -- Each value whole, as one row: the parse view judges it (see the top of this file).
    kafka_format = 'RawBLOB',
    kafka_handle_error_mode = 'stream',
    kafka_num_consumers = 1,
    kafka_flush_interval_ms = 500,
    kafka_max_block_size = 65536;

-- The checks of 0004, behind two new ones: one valid JSON document, and an object.
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
    kafka_flush_interval_ms = 500,
    kafka_max_block_size = 65536;

-- The checks of 0008, behind the same two new ones.
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
