export { createPgAdapter, FixedPrismaPg } from './pg-adapter.js';
