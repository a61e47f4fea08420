export * from './problem.js';
export * from './request-context.js';
export * from './metrics.js';
export * from './json-body.js';
export * from './server.js';
export * from './health.js';
export * from './app.js';
export * from './openapi.js';
