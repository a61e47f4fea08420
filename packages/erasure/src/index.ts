export { eraseUser, ErasureIncomplete, UserNotFound, type ErasureDeps, type ErasureOptions, type ErasureReport } from './erase.js';
export { CONTACT_COLUMNS, needles } from './contact.js';
export { USER_TOPICS, UserTopics, userIdOfKey, type KafkaErasure } from './kafka.js';
export type { ErasedBy } from './postgres.js';
export type { Residue, TableErasure } from './clickhouse.js';
