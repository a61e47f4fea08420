-- CreateTable
CREATE TABLE "users" (
    "id" SERIAL NOT NULL,
    "user_uuid" UUID NOT NULL DEFAULT gen_random_uuid(),
    "name" VARCHAR(200) NOT NULL,
    "email" VARCHAR(254) NOT NULL,
    "age" SMALLINT,
    "gender" VARCHAR(50),
    "country" VARCHAR(100),
    "address" VARCHAR(500),
    "phone" VARCHAR(50),
    "registered_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "users_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "users_user_uuid_key" ON "users"("user_uuid");

-- CreateIndex
CREATE UNIQUE INDEX "users_email_key" ON "users"("email");

-- Hand-written: rules Prisma's schema language cannot state. The API validates the
-- same rules first (with friendlier messages); these keep every other writer honest.
ALTER TABLE "users"
    ADD CONSTRAINT "users_name_not_blank" CHECK (length(btrim("name")) > 0),
    ADD CONSTRAINT "users_email_lower_case" CHECK ("email" = lower("email")),
    ADD CONSTRAINT "users_age_range" CHECK ("age" BETWEEN 0 AND 150);

-- Debezium: with FULL, UPDATE and DELETE events carry every old column value in
-- `before`, so consumers never have to look a deleted row up anywhere else.
ALTER TABLE "users" REPLICA IDENTITY FULL;
