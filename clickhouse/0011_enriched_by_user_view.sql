-- analytics.telemetry_enriched_by_user filled by a materialized view of
-- analytics.telemetry_enriched, instead of by a second insert of the same rows.
--
-- Why: the stream processor's inserts are the longest step of its pipeline, and the
-- second insert made ClickHouse parse every row twice. Through the view each row is
-- parsed once and only sorted and written a second time (docs/benchmarks.md,
-- "Stream processor").
--
-- What changes for writers: a row goes into both tables, so a deleted row written
-- under a key the event left in one table also lands in the other, where the event
-- may still have that key. Such a row is versioned one below the change's own row
-- (_version = _lsn * 2 - 1; apps/stream-processor/src/enrich.ts): where the key did
-- not move, the new row of the same change wins; where it moved, nothing newer
-- exists under it. Every earlier change has a lower version still (LSNs of two
-- changes differ by at least one WAL record, so 2 * _lsn - 1 exceeds 2 * _lsn' + 1).
--
-- Existing rows are untouched. A processor of an earlier release, still writing both
-- tables, only writes rows that the view wrote too, with the same versions.
CREATE MATERIALIZED VIEW IF NOT EXISTS analytics.telemetry_enriched_by_user_mv
TO analytics.telemetry_enriched_by_user
AS SELECT * FROM analytics.telemetry_enriched;
