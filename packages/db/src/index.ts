export { createPgAdapter, createPool, FixedPrismaPg } from './pg-adapter.js';
export { classifyDbError, type DbError, type DbErrorKind } from './errors.js';
