-- CreateTable
CREATE TABLE "telemetry_events" (
    "id" BIGSERIAL NOT NULL,
    "event_uuid" UUID NOT NULL DEFAULT gen_random_uuid(),
    "user_id" INTEGER NOT NULL,
    "prosthesis_type" VARCHAR(100) NOT NULL,
    "muscle_group" VARCHAR(100) NOT NULL,
    "signal_frequency" INTEGER NOT NULL,
    "signal_duration" INTEGER NOT NULL,
    "signal_amplitude" DOUBLE PRECISION NOT NULL,
    "event_timestamp" TIMESTAMPTZ(6) NOT NULL,
    "saved_ts" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "telemetry_events_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "telemetry_events_event_uuid_key" ON "telemetry_events"("event_uuid");

-- CreateIndex
CREATE INDEX "telemetry_events_user_id_event_timestamp_idx" ON "telemetry_events"("user_id", "event_timestamp");

-- Hand-written: rules Prisma's schema language cannot state (the API checks them first).
ALTER TABLE "telemetry_events"
    ADD CONSTRAINT "telemetry_events_prosthesis_type_not_blank" CHECK (length(btrim("prosthesis_type")) > 0),
    ADD CONSTRAINT "telemetry_events_muscle_group_not_blank" CHECK (length(btrim("muscle_group")) > 0),
    ADD CONSTRAINT "telemetry_events_signal_frequency_positive" CHECK ("signal_frequency" > 0),
    ADD CONSTRAINT "telemetry_events_signal_duration_non_negative" CHECK ("signal_duration" >= 0),
    -- float8 accepts NaN and ±Infinity; a sensor reading never is one.
    ADD CONSTRAINT "telemetry_events_signal_amplitude_finite"
        CHECK ("signal_amplitude" <> 'NaN'::float8 AND "signal_amplitude" NOT IN ('Infinity'::float8, '-Infinity'::float8));

-- Debezium: UPDATE and DELETE events carry every old column value in `before`.
ALTER TABLE "telemetry_events" REPLICA IDENTITY FULL;
