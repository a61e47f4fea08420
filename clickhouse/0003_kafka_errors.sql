-- Messages of the CDC topics that the pipeline could not use: not JSON (the Kafka
-- engine's parse error, kafka_handle_error_mode = 'stream'), or JSON that is not a
-- Debezium change event of the expected table. Each keeps the raw bytes and where it
-- came from, so it can be inspected and replayed; ingestion goes on past it.
--
--   SELECT topic, partition, offset, error, raw_message FROM debezium.kafka_errors
--   ORDER BY received_at DESC LIMIT 20
CREATE TABLE IF NOT EXISTS debezium.kafka_errors
(
    received_at DateTime64(3, 'UTC') DEFAULT now64(3),
    topic       LowCardinality(String),
    partition   UInt64,
    offset      UInt64,
    kafka_key   String,
    error       String,
    raw_message String
)
ENGINE = MergeTree
ORDER BY (topic, partition, offset)
TTL toDateTime(received_at) + INTERVAL 30 DAY;
