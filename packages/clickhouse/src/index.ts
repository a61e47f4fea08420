// ClickHouse helpers shared by the scripts and the apps.
export * from './readonly-query.js';
export { splitStatements } from './statements.js';
export { COOKBOOK_DIR, loadCookbook, rewriteDatabases, type Recipe } from './cookbook.js';
export { createClickHouse, type ClickHouseRole } from './client.js';
