import { endpointsSchema, httpUrl, logLevel, parseEnv } from '@cdc/config';
import { z } from 'zod';

/**
 * What the Kafka inspection commands read from the environment (or .env), validated
 * once at start and passed down. The brokers come from the shared endpoints schema;
 * the schema registry is not part of it because only `tail` needs it, and only for
 * messages in the Confluent wire format, so it stays optional here.
 */
const kafkaCliSchema = endpointsSchema.pick({ KAFKA_BROKERS: true }).extend({
  // `SCHEMA_REGISTRY_URL=` in a .env means "not set", not "invalid URL".
  SCHEMA_REGISTRY_URL: z.preprocess((v) => (v === '' ? undefined : v), httpUrl.optional()),
  // kafkajs' own log (stderr). Silent by default: the commands report failures
  // themselves, naming the broker; set to debug to see retries and rebalances.
  KAFKA_CLI_LOG_LEVEL: logLevel.default('silent'),
});

export interface KafkaCliConfig {
  readonly brokers: readonly string[];
  readonly schemaRegistryUrl: string | undefined;
  readonly logLevel: z.infer<typeof logLevel>;
}

export function loadKafkaCliConfig(env: Record<string, string | undefined> = process.env): KafkaCliConfig {
  const parsed = parseEnv('kafka cli', kafkaCliSchema, env);
  return Object.freeze({
    brokers: Object.freeze([...parsed.KAFKA_BROKERS]),
    schemaRegistryUrl: parsed.SCHEMA_REGISTRY_URL,
    logLevel: parsed.KAFKA_CLI_LOG_LEVEL,
  });
}
