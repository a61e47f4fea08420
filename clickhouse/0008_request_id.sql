-- The Telemetry API's request id travels with each event (telemetry_events.request_id
-- in PostgreSQL, prisma/telemetry/migrations/*_request_id), so one event can be
-- followed end to end (`npm run trace -- <event_uuid>`): API → PostgreSQL → Debezium →
-- Kafka → ClickHouse → the processor's views.
--
-- Applied with the pipeline running, in the order KAFKA_DEBEZIUM_SETUP.md gives for a
-- new column ("ClickHouse first, then PostgreSQL"): the columns first, then the views
-- downstream-first, the parsing view last, so no view ever selects a column its target
-- lacks. Events without a request id (SQL, CSV import, older rows) keep NULL.

ALTER TABLE debezium.telemetry_events_changes ADD COLUMN IF NOT EXISTS request_id Nullable(String) AFTER saved_ts;
ALTER TABLE debezium.telemetry_events_merge ADD COLUMN IF NOT EXISTS request_id Nullable(String) AFTER saved_ts;
ALTER TABLE default.telemetry_events ADD COLUMN IF NOT EXISTS request_id Nullable(String) AFTER saved_ts;
ALTER TABLE analytics.telemetry_enriched ADD COLUMN IF NOT EXISTS request_id Nullable(String) AFTER event_timestamp;
ALTER TABLE analytics.telemetry_enriched_by_user ADD COLUMN IF NOT EXISTS request_id Nullable(String) AFTER event_timestamp;

ALTER TABLE debezium.telemetry_events_mv MODIFY QUERY
SELECT
    op, id, event_uuid, user_id, prosthesis_type, muscle_group, signal_frequency, signal_duration,
    signal_amplitude, event_timestamp, saved_ts, request_id, _lsn, _source_ts,
    _partition AS _kafka_partition,
    _offset AS _kafka_offset,
    now64(3) AS _ingested_at
FROM debezium.telemetry_events_changes
WHERE error = '';

ALTER TABLE debezium.telemetry_events_current_mv MODIFY QUERY
SELECT
    id, event_uuid, user_id, prosthesis_type, muscle_group, signal_frequency, signal_duration,
    signal_amplitude, event_timestamp, saved_ts, request_id,
    _lsn,
    op = 'd' AS _is_deleted,
    _source_ts,
    now64(3) AS _ingested_at
FROM debezium.telemetry_events_changes
WHERE error = '';

ALTER TABLE debezium.telemetry_events_parse_mv MODIFY QUERY
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
