export { AVRO_OPTIONS, createSchemaRegistry, listSubjects, wideLong, type SubjectVersion } from './registry.js';
export { KafkaInspectError } from './errors.js';
export * from './decode.js';
export * from './topics.js';
export * from './groups.js';
export { PartitionReader, type RawMessage, type ReaderOptions } from './reader.js';
export { createKafka, kafkaAccess, saslOf, withAdmin, type CreateKafkaOptions, type KafkaAccess, type KafkaLogLevel } from './client.js';
