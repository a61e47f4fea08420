-- Erasure (docs/security.md, "Erasure") rewrites the parts holding a user's rows; the
-- parts it replaces stay on disk until old_parts_lifetime has passed (8 minutes by
-- default). A short lifetime bounds how long an erased value's bytes outlive the
-- erasure on disk. Readers never see them either way: replaced parts are not read.
ALTER TABLE default.users MODIFY SETTING old_parts_lifetime = 30;
ALTER TABLE debezium.kafka_errors MODIFY SETTING old_parts_lifetime = 30;
