import type { ITopicConfig } from 'kafkajs';

/**
 * Every topic the pipeline uses, created explicitly by `stack:up` because the broker
 * runs with auto-creation off: a typo in a topic name must fail loudly, not create an
 * empty topic nobody reads. Debezium topic names are <topic.prefix>.<schema>.<table>.
 * Kafka Connect creates its own internal topics (connect-configs/-offsets/-status).
 */
const compactedHeartbeat = [{ name: 'cleanup.policy', value: 'compact' }];

export const PIPELINE_TOPICS: ITopicConfig[] = [
  { topic: 'crm.public.users', numPartitions: 3, replicationFactor: 1 },
  { topic: 'telemetry.public.telemetry_events', numPartitions: 3, replicationFactor: 1 },
  { topic: '__debezium-heartbeat.crm', numPartitions: 1, replicationFactor: 1, configEntries: compactedHeartbeat },
  { topic: '__debezium-heartbeat.telemetry', numPartitions: 1, replicationFactor: 1, configEntries: compactedHeartbeat },
  { topic: 'crm.public.users.dlq', numPartitions: 1, replicationFactor: 1 },
  { topic: 'telemetry.public.telemetry_events.dlq', numPartitions: 1, replicationFactor: 1 },
  { topic: 'analytics.telemetry_enriched', numPartitions: 3, replicationFactor: 1 },
];
