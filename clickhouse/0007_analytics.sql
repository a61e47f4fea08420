-- The analytical views the TypeScript stream processor (apps/stream-processor)
-- builds from the Debezium topics. Every table is written idempotently, so the
-- processor's at-least-once delivery still gives exactly-once contents:
--
--   analytics.telemetry_enriched   one row per event, with its user's country, gender
--                                  and age band as known when it was processed
--                                  (and analytics.telemetry_enriched_by_user, the same
--                                  rows sorted by user)
--   analytics.telemetry_by_minute  minute × prosthesis_type × muscle_group aggregates
--   analytics.user_activity        per user: events, first/last event time, last amplitude
--
-- Read them with FINAL (or the *_v views below, which do it for you).
CREATE DATABASE IF NOT EXISTS analytics;

-- Versioned by _version = _lsn * 2 + user_known: a redelivered change writes the same
-- version (the row is replaced by itself), a later change of the event wins, and
-- re-enriching an event whose user arrived late (user_known 0 → 1) wins over the
-- first, user-less row of the same change.
--
-- Sorted by the aggregate key first, so that recomputing a minute reads only that
-- minute's range (FINAL merges only the ranges the primary key selects). The key
-- must identify the row, so an update that moves an event to another minute, type
-- or muscle group also writes a deleted row (_is_deleted = 1) under its old key.
CREATE TABLE IF NOT EXISTS analytics.telemetry_enriched
(
    event_uuid       UUID,
    id               Int64,
    user_id          Int32,
    prosthesis_type  LowCardinality(String),
    muscle_group     LowCardinality(String),
    signal_frequency Int32,
    signal_duration  Int32,
    signal_amplitude Float64,
    event_timestamp  DateTime64(6, 'UTC'),
    user_known       UInt8,
    country          LowCardinality(Nullable(String)),
    gender           LowCardinality(Nullable(String)),
    age_band         LowCardinality(Nullable(String)),
    _lsn             UInt64,
    _version         UInt64,
    _is_deleted      UInt8,
    _source_ts       DateTime64(3, 'UTC'),
    _processed_at    DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(_version, _is_deleted)
ORDER BY (toStartOfMinute(event_timestamp), prosthesis_type, muscle_group, event_uuid);

-- The same rows sorted by user, for the per-user recompute and re-enrichment; an
-- update that moves an event to another user writes a deleted row under the old one.
CREATE TABLE IF NOT EXISTS analytics.telemetry_enriched_by_user AS analytics.telemetry_enriched
ENGINE = ReplacingMergeTree(_version, _is_deleted)
ORDER BY (user_id, event_uuid);

-- Aggregates are recomputed by the processor from telemetry_enriched FINAL for every
-- key a batch touched (a delete or a moved event touches its old key too) and
-- written as a new version of that key: re-processing a batch recomputes the same
-- numbers, so duplicates never inflate them. A key left without events is written
-- with _is_deleted = 1. Quantiles are exact states (deterministic under re-merging),
-- read with quantilesExactMerge(0.5, 0.95)(amplitude_quantiles).
CREATE TABLE IF NOT EXISTS analytics.telemetry_by_minute
(
    minute              DateTime('UTC'),
    prosthesis_type     LowCardinality(String),
    muscle_group        LowCardinality(String),
    events              UInt64,
    avg_amplitude       Float64,
    max_amplitude       Float64,
    amplitude_quantiles AggregateFunction(quantilesExact(0.5, 0.95), Float64),
    _computed_at        DateTime64(6, 'UTC'),
    _is_deleted         UInt8
)
ENGINE = ReplacingMergeTree(_computed_at, _is_deleted)
ORDER BY (minute, prosthesis_type, muscle_group);

CREATE TABLE IF NOT EXISTS analytics.user_activity
(
    user_id         Int32,
    events          UInt64,
    first_event_at  DateTime64(6, 'UTC'),
    last_event_at   DateTime64(6, 'UTC'),
    last_amplitude  Float64,
    _computed_at    DateTime64(6, 'UTC'),
    _is_deleted     UInt8
)
ENGINE = ReplacingMergeTree(_computed_at, _is_deleted)
ORDER BY user_id;

CREATE VIEW IF NOT EXISTS analytics.telemetry_by_minute_v AS
SELECT
    minute, prosthesis_type, muscle_group, events, avg_amplitude, max_amplitude,
    quantilesExactMerge(0.5, 0.95)(amplitude_quantiles) AS q,
    q[1] AS p50_amplitude,
    q[2] AS p95_amplitude
FROM analytics.telemetry_by_minute FINAL
GROUP BY minute, prosthesis_type, muscle_group, events, avg_amplitude, max_amplitude;
