import type { ITopicConfig } from 'kafkajs';

/**
 * Every topic the pipeline uses, created explicitly by `stack:up` because the broker
 * runs with auto-creation off: a typo in a topic name must fail loudly, not create an
 * empty topic nobody reads. Debezium topic names are <topic.prefix>.<schema>.<table>.
 * Kafka Connect creates its own internal topics (connect-configs/-offsets/-status).
 */
const compacted = [{ name: 'cleanup.policy', value: 'compact' }];

/**
 * The bound on how long a user's erased row stays in Kafka (docs/security.md,
 * "Erasure"): a segment holding a tombstone is rolled at the first append after this
 * age, and the cleaner may then clean it whatever the dirty ratio; the replaced files
 * are deleted FILE_DELETE_DELAY_MS later. The cost: while users change, the cleaner
 * recopies the topic about this often.
 */
export const USER_COMPACTION_LAG_MS = 10_000;
const FILE_DELETE_DELAY_MS = 5_000;
const erasable = [
  { name: 'max.compaction.lag.ms', value: String(USER_COMPACTION_LAG_MS) },
  { name: 'file.delete.delay.ms', value: String(FILE_DELETE_DELAY_MS) },
];

export const PIPELINE_TOPICS: ITopicConfig[] = [
  // Compacted: the topic keeps the latest event of every user id, and a deleted user's
  // tombstone (tombstones.on.delete, connectors/crm-connector.json) finally removes it,
  // so the user dimension can always be rebuilt from Kafka alone.
  // Segments roll hourly, and within USER_COMPACTION_LAG_MS of a change while users
  // change: compaction never touches the active segment, and with the default (7 days,
  // 1 GB) every change of the week would be replayed on each start.
  {
    topic: 'crm.public.users',
    numPartitions: 3,
    replicationFactor: 1,
    configEntries: [...compacted, { name: 'segment.ms', value: '3600000' }, ...erasable],
  },
  // Telemetry events are facts with a retention period; the connector emits no
  // tombstones for them.
  { topic: 'telemetry.public.telemetry_events', numPartitions: 3, replicationFactor: 1 },
  { topic: '__debezium-heartbeat.crm', numPartitions: 1, replicationFactor: 1, configEntries: compacted },
  { topic: '__debezium-heartbeat.telemetry', numPartitions: 1, replicationFactor: 1, configEntries: compacted },
  // Changes of the heartbeat.action.query's table (prisma/*/migrations/*_debezium_heartbeat).
  { topic: 'crm.debezium.heartbeat', numPartitions: 1, replicationFactor: 1, configEntries: compacted },
  { topic: 'telemetry.debezium.heartbeat', numPartitions: 1, replicationFactor: 1, configEntries: compacted },
  // Dead letters of users hold whole rows: compacted as well as expiring after the
  // broker's 7 days, so that an erasure's tombstone removes them (the newest dead letter
  // of each key stays until then). Every key is a user's: the source topic is compacted
  // and so refuses keyless records.
  {
    topic: 'crm.public.users.dlq',
    numPartitions: 1,
    replicationFactor: 1,
    configEntries: [{ name: 'cleanup.policy', value: 'compact,delete' }, ...erasable],
  },
  { topic: 'telemetry.public.telemetry_events.dlq', numPartitions: 1, replicationFactor: 1 },
  { topic: 'analytics.telemetry_enriched', numPartitions: 3, replicationFactor: 1 },
  // The optional Avro connector (connectors/avro/) and the dead letters of a processor
  // reading it: created here like every other topic, not on first use.
  { topic: 'avro.public.telemetry_events', numPartitions: 3, replicationFactor: 1 },
  { topic: 'avro.public.telemetry_events.dlq', numPartitions: 1, replicationFactor: 1 },
];
