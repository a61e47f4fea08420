export * from './limits.js';
export * from './users.js';
export * from './telemetry.js';
