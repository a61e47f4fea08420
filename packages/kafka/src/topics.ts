import kafkajs, { type Admin } from 'kafkajs';
import { KafkaInspectError } from './errors.js';

// Not among the names Node can see in kafkajs' CommonJS exports: taken from the default export.
const { ConfigResourceTypes } = kafkajs;

/**
 * Kafka's own internal topics. kafkajs drops the metadata's isInternal flag, and a
 * "__" prefix is no test (Debezium's __debezium-heartbeat.* are ordinary topics), so
 * the broker's fixed set is listed here.
 */
export const KAFKA_INTERNAL_TOPICS: ReadonlySet<string> = new Set(['__consumer_offsets', '__transaction_state', '__share_group_state']);

export interface PartitionInfo {
  partition: number;
  /** Log start offset: lower after retention or DeleteRecords. */
  low: number;
  /** High watermark: the offset the next message will get. */
  high: number;
  /** high − low: exact for an uncompacted topic, an upper bound for a compacted one. */
  messages: number;
}

export interface TopicInfo {
  topic: string;
  internal: boolean;
  cleanupPolicy: string;
  partitions: PartitionInfo[];
  messages: number;
}

export async function describeTopics(admin: Admin, only?: readonly string[]): Promise<TopicInfo[]> {
  const names = only && only.length > 0 ? [...only] : (await admin.listTopics()).sort();
  if (names.length === 0) return [];
  const existing = new Set(await admin.listTopics());
  const missing = names.filter((n) => !existing.has(n));
  if (missing.length > 0) throw new KafkaInspectError(`no such topic: ${missing.join(', ')}`);

  const configs = await admin.describeConfigs({
    includeSynonyms: false,
    resources: names.map((name) => ({ type: ConfigResourceTypes.TOPIC, name, configNames: ['cleanup.policy'] })),
  });
  const policy = new Map(
    configs.resources.map((r) => [r.resourceName, r.configEntries.find((e) => e.configName === 'cleanup.policy')?.configValue ?? '?']),
  );

  const topics: TopicInfo[] = [];
  for (const topic of names) {
    let offsets;
    try {
      offsets = await admin.fetchTopicOffsets(topic);
    } catch (err) {
      throw new KafkaInspectError(`topic ${topic}: fetching offsets failed: ${(err as Error).message}`, { cause: err });
    }
    const partitions = offsets
      .map((o) => toPartitionInfo(o.partition, o.low, o.high))
      .sort((a, b) => a.partition - b.partition);
    topics.push({
      topic,
      internal: KAFKA_INTERNAL_TOPICS.has(topic),
      cleanupPolicy: policy.get(topic) ?? '?',
      partitions,
      messages: partitions.reduce((sum, p) => sum + p.messages, 0),
    });
  }
  return topics;
}

export function toPartitionInfo(partition: number, low: string, high: string): PartitionInfo {
  const l = Number(low);
  const h = Number(high);
  return { partition, low: l, high: h, messages: Math.max(0, h - l) };
}
