/**
 * Request body limits, documented in the OpenAPI description. A batch of the
 * maximum 10,000 events is about 2.5–3.5 MB of compact JSON, so 8 MiB leaves room
 * for pretty-printing; a single event is under 2 KB even with every label at its
 * maximum length, so 64 KiB is generous while keeping the single route cheap.
 */
export const BATCH_MAX_BODY_BYTES = 8 * 1024 * 1024;
export const SINGLE_MAX_BODY_BYTES = 64 * 1024;
