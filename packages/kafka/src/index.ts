export { AVRO_OPTIONS, createSchemaRegistry, wideLong } from './registry.js';
