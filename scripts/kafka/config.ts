import { endpointsSchema, logLevel, optionalRegistryUrl, parseEnv } from '@cdc/config';
import { kafkaAccess, type KafkaAccess } from '@cdc/kafka';
import { z } from 'zod';

/**
 * What the Kafka inspection commands read from the environment (or .env), validated
 * once at start and passed down. The brokers and the principal come from the shared endpoints schema;
 * the schema registry (only `tail` needs it, for messages in the Confluent wire
 * format) defaults to the native stack's and can be switched off with an empty value.
 */
const kafkaCliSchema = endpointsSchema.pick({ KAFKA_BROKERS: true, KAFKA_USER: true, KAFKA_PASSWORD: true }).extend({
  SCHEMA_REGISTRY_URL: optionalRegistryUrl,
  // kafkajs' own log (stderr). Silent by default: the commands report failures
  // themselves, naming the broker; set to debug to see retries and rebalances.
  KAFKA_CLI_LOG_LEVEL: logLevel.default('silent'),
});

export interface KafkaCliConfig extends KafkaAccess {
  readonly schemaRegistryUrl: string | undefined;
  readonly logLevel: z.infer<typeof logLevel>;
}

export function loadKafkaCliConfig(env: Record<string, string | undefined> = process.env): KafkaCliConfig {
  const parsed = parseEnv('kafka cli', kafkaCliSchema, env);
  return Object.freeze({
    ...kafkaAccess(parsed),
    brokers: Object.freeze([...parsed.KAFKA_BROKERS]),
    schemaRegistryUrl: parsed.SCHEMA_REGISTRY_URL,
    logLevel: parsed.KAFKA_CLI_LOG_LEVEL,
  });
}
