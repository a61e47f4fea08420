export * from './authenticate.js';
export * from './key-lookup.js';
export * from './rate-limit.js';
export * from './route-scopes.js';
export * from './install.js';
