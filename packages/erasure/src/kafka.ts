import kafkajs, { type Admin, type Kafka } from 'kafkajs';
import { PartitionReader, type KafkaAccess, type RawMessage } from '@cdc/kafka';

/**
 * Kafka's copies of a user's row: every change Debezium wrote for the user's key to the
 * compacted `crm.public.users` (each holds the whole row), and dead letters the processor
 * copied from it to `crm.public.users.dlq`, under the same key. Compaction removes a
 * key's records once a later tombstone for the key is in a segment the cleaner may
 * clean; that needs two things Kafka does not do by itself:
 *
 * - a tombstone after the last record: Debezium writes one after the delete, nobody
 *   writes one to the DLQ;
 * - the segment holding it rolled: the active segment is never cleaned, and Kafka rolls
 *   it only when a record is appended once it is older than min(segment.ms,
 *   max.compaction.lag.ms). On a quiet partition that append may never come, so the
 *   erasure makes it: a second tombstone for the same key, written after that age.
 *
 * The cleaner then removes the records within log.cleaner.backoff.ms, and their files
 * within file.delete.delay.ms (topics: scripts/stack/topics.ts).
 */
export const USER_TOPICS = ['crm.public.users', 'crm.public.users.dlq'] as const;

export interface KafkaErasure {
  topic: string;
  /** Records holding the user's row that compaction removed. */
  removed: number;
}

export class KafkaCompactionPending extends Error {
  constructor(readonly topics: string[], timeoutMs: number) {
    super(`Kafka has not compacted the user's records away in ${topics.join(', ')} within ${timeoutMs / 1000} s`);
    this.name = 'KafkaCompactionPending';
  }
}

/** One key's records in one partition. Keys are compared byte for byte, as compaction does. */
interface KeyRecords {
  topic: string;
  partition: number;
  key: Buffer;
  /** Records with a value: what erasure removes. */
  live: number;
  /** Whether the newest record is a tombstone. */
  endsInTombstone: boolean;
  newestTimestamp: number;
}

/** The user id of a Debezium key, plain (`{"id":7}`) or with its schema (`{"payload":{"id":7}}`). */
export function userIdOfKey(key: Buffer | null): number | undefined {
  if (!key || key.length > 4096) return undefined;
  try {
    const parsed = JSON.parse(key.toString('utf8')) as { id?: unknown; payload?: { id?: unknown } };
    const id = parsed?.id ?? parsed?.payload?.id;
    return typeof id === 'number' && Number.isInteger(id) ? id : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The user topics as the erasure reads and writes them: one admin (offsets, configs),
 * one reader (records, without a group) and a producer opened when needed.
 */
export class UserTopics {
  private constructor(
    private readonly kafka: Kafka,
    readonly admin: Admin,
    private readonly reader: PartitionReader,
  ) {}

  static async open(kafka: Kafka, access: KafkaAccess): Promise<UserTopics> {
    const admin = kafka.admin();
    await admin.connect();
    return new UserTopics(kafka, admin, new PartitionReader({ ...access, clientId: 'cdc-erasure' }));
  }

  /** Every record of every partition, from the log start to the high watermark. */
  async *records(): AsyncGenerator<{ topic: string; record: RawMessage }> {
    for (const topic of USER_TOPICS) {
      for (const { partition, low, high } of await this.admin.fetchTopicOffsets(topic)) {
        for (const record of await this.reader.read(topic, partition, BigInt(low), BigInt(high))) yield { topic, record };
      }
    }
  }

  /** Writes a tombstone for each key, in its partition; answers their timestamp. */
  async tombstones(keys: readonly KeyRecords[]): Promise<number> {
    const producer = this.kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    try {
      const now = Date.now();
      for (const k of keys) {
        await producer.send({ topic: k.topic, acks: -1, messages: [{ key: k.key, value: null, partition: k.partition, timestamp: String(now) }] });
      }
      return now;
    } finally {
      await producer.disconnect();
    }
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.admin.disconnect(), this.reader.disconnect()]);
  }
}

/** The user's keys, each with what its records hold. */
async function scan(topics: UserTopics, id: number): Promise<KeyRecords[]> {
  const found = new Map<string, KeyRecords>();
  for await (const { topic, record: m } of topics.records()) {
    if (userIdOfKey(m.key) !== id) continue;
    const at = `${topic}\u0000${m.partition}\u0000${m.key!.toString('hex')}`;
    const k = found.get(at) ?? { topic, partition: m.partition, key: m.key!, live: 0, endsInTombstone: false, newestTimestamp: 0 };
    if (m.value !== null) k.live += 1;
    k.endsInTombstone = m.value === null;
    k.newestTimestamp = Math.max(k.newestTimestamp, Number(m.timestamp));
    found.set(at, k);
  }
  return [...found.values()];
}

export class KafkaNotErasable extends Error {
  constructor(topic: string, why: string) {
    super(`topic ${topic} ${why}; \`npm run up\` applies the topic settings of scripts/stack/topics.ts`);
    this.name = 'KafkaNotErasable';
  }
}

/** The longest the erasure waits for a segment to reach the age at which an append rolls it. */
const MAX_ROLL_WAIT_MS = 120_000;

/**
 * How old a segment must be before the next append rolls it: min(segment.ms,
 * max.compaction.lag.ms). Refuses a topic that is not compacted or would make the
 * erasure wait for long (a topic created before the erasure's settings existed).
 */
async function rollAfterMs(admin: Admin, topic: string): Promise<number> {
  const { resources } = await admin.describeConfigs({
    includeSynonyms: false,
    resources: [{ type: kafkajs.ConfigResourceTypes.TOPIC, name: topic, configNames: ['cleanup.policy', 'segment.ms', 'max.compaction.lag.ms'] }],
  });
  const entries = new Map((resources[0]?.configEntries ?? []).map((e) => [e.configName, e.configValue]));
  if (!(entries.get('cleanup.policy') ?? '').split(',').includes('compact')) throw new KafkaNotErasable(topic, 'is not compacted');
  const rollAfter = Math.min(Number(entries.get('segment.ms')), Number(entries.get('max.compaction.lag.ms')));
  if (!(rollAfter <= MAX_ROLL_WAIT_MS)) throw new KafkaNotErasable(topic, `rolls a segment only after ${Math.round(rollAfter / 1000)} s`);
  return rollAfter;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

/**
 * Removes the user's records from the topics and waits until a read of the topics no
 * longer returns any of them (at most `timeoutMs` after the segments are closed).
 */
export async function eraseKafka(topics: UserTopics, id: number, timeoutMs: number): Promise<KafkaErasure[]> {
  const rollAfter = Math.max(...(await Promise.all(USER_TOPICS.map((t) => rollAfterMs(topics.admin, t)))));
  const keys = (await scan(topics, id)).filter((k) => k.live > 0);
  const removed = (topic: string) => keys.filter((k) => k.topic === topic).reduce((n, k) => n + k.live, 0);
  if (keys.length === 0) return USER_TOPICS.map((topic) => ({ topic, removed: 0 }));

  const unmarked = keys.filter((k) => !k.endsInTombstone);
  const marked = unmarked.length > 0 ? await topics.tombstones(unmarked) : 0;
  const newest = Math.max(marked, ...keys.map((k) => k.newestTimestamp));
  // A little past the age, so that a clock tick between the two appends cannot leave it unrolled.
  await sleep(newest + rollAfter + 1_000 - Date.now());
  await topics.tombstones(keys);

  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = (await scan(topics, id)).filter((k) => k.live > 0);
    if (left.length === 0) return USER_TOPICS.map((topic) => ({ topic, removed: removed(topic) }));
    if (Date.now() > deadline) throw new KafkaCompactionPending([...new Set(left.map((k) => k.topic))], timeoutMs);
    await sleep(1_000);
  }
}

/** Records of any key in the user topics whose value holds one of the needles (hex): what a reader could still find. */
export async function kafkaResidue(topics: UserTopics, hexes: string[]): Promise<{ topic: string; records: number }[]> {
  const needles = hexes.map((h) => Buffer.from(h, 'hex'));
  const counts = new Map<string, number>();
  if (needles.length === 0) return [];
  for await (const { topic, record } of topics.records()) {
    if (record.value && needles.some((n) => record.value!.includes(n))) counts.set(topic, (counts.get(topic) ?? 0) + 1);
  }
  return [...counts].map(([topic, records]) => ({ topic, records }));
}
