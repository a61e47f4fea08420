-- `debezium` holds the Kafka side of the pipeline: Kafka-engine tables, the
-- materialized views that parse Debezium change events, the users Join table, the
-- telemetry change log and the table of messages that could not be used.
-- `default` holds what people query: the current state of each source table.
CREATE DATABASE IF NOT EXISTS debezium;
