-- Hand-written: what the Debezium connector (connectors/*.json) needs besides the
-- captured table. Outside `public` on purpose: Prisma's schema describes `public`
-- only, so this stays out of its diffs.
CREATE SCHEMA IF NOT EXISTS "debezium";

-- The connector's heartbeat.action.query upserts this one row every few seconds.
-- The table is in the connector's publication, so the write reaches the slot as a
-- change: the connector then confirms a recent LSN even while the captured table is
-- idle and other tables of the database write WAL, and the slot never pins old WAL.
CREATE TABLE "debezium"."heartbeat" (
    "id"      integer PRIMARY KEY,
    "beat_at" timestamptz NOT NULL
);
