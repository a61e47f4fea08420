// ClickHouse helpers shared by the scripts and the apps.
export * from './readonly-query.js';
export { splitStatements } from './statements.js';
