export * from './key.js';
export * from './scopes.js';
