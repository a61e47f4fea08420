export { createSchemaRegistry, wideLong } from './registry.js';
