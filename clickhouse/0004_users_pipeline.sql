-- crm.public.users (Debezium, JSON without schemas) → ClickHouse.
--
--   users_kafka ──users_parse_mv──▶ users_changes (Null: nothing stored)
--                                     ├─ users_mv ──────────▶ users_join     latest user per id, for JOINs
--                                     ├─ users_current_mv ──▶ default.users  current state (FINAL)
--                                     └─ users_errors_mv ───▶ kafka_errors   unusable messages
--
-- One view reads the Kafka table and the others fan out from users_changes: a Kafka
-- table starts consuming as soon as one view is attached, so views attached to it one
-- by one would each miss what the first had already consumed. Kafka offsets are
-- committed only after the whole block has gone through every view (at least once;
-- the targets make repeats harmless).

CREATE TABLE IF NOT EXISTS debezium.users_changes
(
    op            LowCardinality(String),
    id            Int32,
    user_uuid     UUID,
    name          String,
    email         String,
    age           Nullable(Int16),
    gender        Nullable(String),
    country       Nullable(String),
    address       Nullable(String),
    phone         Nullable(String),
    registered_at DateTime64(6, 'UTC'),
    _lsn          UInt64,
    _source_ts    DateTime64(3, 'UTC'),
    _topic        LowCardinality(String),
    _partition    UInt64,
    _offset       UInt64,
    _key          String,
    raw_message   String,
    error         String
)
ENGINE = Null;

-- Latest state per user id for joinGet()/JOIN: each change overwrites the id's entry
-- (join_any_take_last_row). Changes of one id share a Kafka partition and arrive in
-- commit order; a redelivery replays a suffix of that order, so the last write is
-- always the latest state. A deleted user is written as an empty entry with
-- _is_deleted = 1 (an insert cannot remove a key); the stream processor purges those
-- entries periodically with ALTER TABLE … DELETE.
CREATE TABLE IF NOT EXISTS debezium.users_join
(
    id            Int32,
    user_uuid     UUID,
    name          String,
    email         String,
    age           Nullable(Int16),
    gender        Nullable(String),
    country       Nullable(String),
    address       Nullable(String),
    phone         Nullable(String),
    registered_at DateTime64(6, 'UTC'),
    _lsn          UInt64,
    _is_deleted   UInt8
)
ENGINE = Join(ANY, LEFT, id)
SETTINGS join_any_take_last_row = 1;

CREATE MATERIALIZED VIEW IF NOT EXISTS debezium.users_mv TO debezium.users_join AS
SELECT
    id,
    if(op = 'd', toUUID('00000000-0000-0000-0000-000000000000'), user_uuid) AS user_uuid,
    if(op = 'd', '', name) AS name,
    if(op = 'd', '', email) AS email,
    if(op = 'd', NULL, age) AS age,
    if(op = 'd', NULL, gender) AS gender,
    if(op = 'd', NULL, country) AS country,
    if(op = 'd', NULL, address) AS address,
    if(op = 'd', NULL, phone) AS phone,
    if(op = 'd', toDateTime64(0, 6, 'UTC'), registered_at) AS registered_at,
    _lsn,
    op = 'd' AS _is_deleted
FROM debezium.users_changes
WHERE error = '';

CREATE MATERIALIZED VIEW IF NOT EXISTS debezium.users_current_mv TO default.users AS
SELECT
    id, user_uuid, name, email, age, gender, country, address, phone, registered_at,
    _lsn,
    op = 'd' AS _is_deleted,
    _source_ts,
    now64(3) AS _ingested_at
FROM debezium.users_changes
WHERE error = '';

CREATE MATERIALIZED VIEW IF NOT EXISTS debezium.users_errors_mv TO debezium.kafka_errors AS
SELECT
    now64(3) AS received_at,
    _topic AS topic,
    _partition AS partition,
    _offset AS offset,
    _key AS kafka_key,
    error,
    raw_message
FROM debezium.users_changes
WHERE error != '';

CREATE TABLE IF NOT EXISTS debezium.users_kafka
(
    message String
)
ENGINE = Kafka
SETTINGS
    kafka_broker_list = '${KAFKA_BROKER_LIST}',
    kafka_topic_list = 'crm.public.users',
    kafka_group_name = 'clickhouse-crm-users',
    -- The whole value as one string; the view below parses it. A value that is not
    -- a JSON object becomes a row with _error and _raw_message set ('stream') instead
    -- of stopping the table. Tombstones (null values) are skipped by the engine.
    kafka_format = 'JSONAsString',
    kafka_handle_error_mode = 'stream',
    kafka_num_consumers = 1,
    -- Push a block at least every 500 ms: the default (7.5 s) would be the lag.
    kafka_flush_interval_ms = 500,
    kafka_max_block_size = 65536;

-- Parses and checks each change event once. The row image is `after` for snapshot
-- reads (r), inserts (c) and updates (u) and `before` for deletes (d; with REPLICA
-- IDENTITY FULL it holds every column). A message missing anything the row needs
-- gets an error and goes to kafka_errors, never a half-filled row into users.
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
