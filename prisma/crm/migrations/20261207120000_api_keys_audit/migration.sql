-- Hand-written: API keys and the audit log of writes (docs/security.md). Both
-- databases hold the same two tables, so each API checks keys against its own
-- database and keeps working while the other cluster is down; `npm run keys` writes
-- every key to both. Outside `public`: Prisma's schema and Debezium's filtered
-- publication leave them alone, so no key or audit row ever reaches Kafka.
CREATE SCHEMA IF NOT EXISTS "auth";

CREATE TABLE "auth"."api_keys" (
    "id"              text PRIMARY KEY CHECK ("id" ~ '^[0-9a-f]{16}$'),
    "name"            text NOT NULL CHECK (length("name") BETWEEN 1 AND 100),
    -- SHA-256 of the secret part; the secret itself is shown once, at creation.
    "secret_sha256"   bytea NOT NULL CHECK (length("secret_sha256") = 32),
    "scopes"          text[] NOT NULL CHECK (cardinality("scopes") > 0),
    -- Requests per second this key may make; NULL: the API's default, 0: no limit.
    "rate_per_second" integer CHECK ("rate_per_second" >= 0),
    "created_at"      timestamptz NOT NULL DEFAULT now(),
    "expires_at"      timestamptz,
    "revoked_at"      timestamptz,
    -- The key this one was rotated from.
    "rotated_from"    text
);

-- One row per successful write through an API. It names what changed (action,
-- target, field names, counts), never the values: the log holds no personal data,
-- so erasing a user leaves it intact.
CREATE TABLE "auth"."audit_log" (
    "id"         bigserial PRIMARY KEY,
    "at"         timestamptz NOT NULL DEFAULT now(),
    "key_id"     text NOT NULL,
    "request_id" text,
    "action"     text NOT NULL,
    "target"     text,
    "detail"     jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX "audit_log_key_at" ON "auth"."audit_log" ("key_id", "at");

-- Append-only for every role, the table's owner included: an entry can be added
-- (by the write it records, in the same transaction) but never changed or removed.
CREATE FUNCTION "auth"."audit_log_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'auth.audit_log is append-only (% refused)', TG_OP;
END
$$;
CREATE TRIGGER "audit_log_no_update_delete" BEFORE UPDATE OR DELETE ON "auth"."audit_log"
    FOR EACH ROW EXECUTE FUNCTION "auth"."audit_log_append_only"();
CREATE TRIGGER "audit_log_no_truncate" BEFORE TRUNCATE ON "auth"."audit_log"
    FOR EACH STATEMENT EXECUTE FUNCTION "auth"."audit_log_append_only"();
