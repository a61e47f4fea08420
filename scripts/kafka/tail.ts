import { randomUUID } from 'node:crypto';
import type { Admin, IHeaders, Kafka, KafkaMessage } from 'kafkajs';
import { decodeBytes, type Decoded, type RegistryDecoder } from '@cdc/kafka';
import { KafkaInspectError } from '@cdc/kafka';

/**
 * `tail`: prints a topic's messages as JSON lines, decoded. kafkajs can only consume
 * through a consumer group, so each run joins a throw-away group of its own
 * (kafka-cli-tail-<uuid>) with auto-commit off: nothing is ever committed, no real
 * group's position moves, and the empty group is deleted on the way out.
 */
export interface TailOptions {
  topic: string;
  fromBeginning: boolean;
  /** Stop after this many printed messages. */
  max: number | undefined;
  /** Only this partition (the others are paused, so they are not fetched). */
  partition: number | undefined;
  /** Stop after this long without a message, counted from the group join; 0 = never. */
  timeoutMs: number;
}

export interface TailLine {
  partition: number;
  offset: number;
  timestamp: string;
  key: unknown;
  headers: Record<string, string | string[]>;
  value: unknown;
  format: Decoded['format'];
  schemaId?: number;
  raw?: { base64: string; utf8?: string };
  error?: string;
}

export type StopReason = 'max' | 'idle' | 'signal' | 'output-closed';

export interface TailResult {
  printed: number;
  reason: StopReason;
  groupId: string;
}

const JOIN_TIMEOUT_MS = 60_000;

export async function tail(
  kafka: Kafka,
  admin: Admin,
  registry: RegistryDecoder | undefined,
  opts: TailOptions,
  write: (line: string) => void,
  stopSignal: AbortSignal,
): Promise<TailResult> {
  const partitionCount = await checkTopic(admin, opts.topic, opts.partition);

  const groupId = `kafka-cli-tail-${randomUUID()}`;
  const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false });
  let printed = 0;
  let settle!: (outcome: StopReason | Error) => void;
  const finished = new Promise<StopReason | Error>((resolve) => (settle = resolve));
  let done = false;
  const finish = (outcome: StopReason | Error) => {
    if (done) return;
    done = true;
    clearTimeout(idle);
    settle(outcome);
  };

  let idle: NodeJS.Timeout | undefined;
  const resetIdle = () => {
    clearTimeout(idle);
    if (opts.timeoutMs > 0) idle = setTimeout(() => finish('idle'), opts.timeoutMs);
  };
  // Joining a new group takes seconds (the broker's initial rebalance delay): the idle
  // clock starts once partitions are assigned, not when the command starts.
  const joinWatchdog = setTimeout(
    () => finish(new KafkaInspectError(`topic ${opts.topic}: consumer did not join within ${JOIN_TIMEOUT_MS / 1000}s`)),
    JOIN_TIMEOUT_MS,
  );
  stopSignal.addEventListener('abort', () => finish((stopSignal.reason as StopReason | undefined) ?? 'signal'), { once: true });

  consumer.on(consumer.events.GROUP_JOIN, () => {
    clearTimeout(joinWatchdog);
    if (opts.partition !== undefined) {
      const others = [] as number[];
      for (let p = 0; p < partitionCount; p++) if (p !== opts.partition) others.push(p);
      if (others.length > 0) consumer.pause([{ topic: opts.topic, partitions: others }]);
    }
    resetIdle();
  });
  consumer.on(consumer.events.CRASH, (e) => finish(new KafkaInspectError(`topic ${opts.topic}: consumer crashed: ${e.payload.error.message}`, { cause: e.payload.error })));

  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [opts.topic], fromBeginning: opts.fromBeginning });
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        if (done || (opts.partition !== undefined && partition !== opts.partition)) return;
        resetIdle();
        let line: TailLine;
        try {
          line = await toLine(partition, message, registry);
        } catch (err) {
          finish(new KafkaInspectError(`topic ${opts.topic} partition ${partition} offset ${message.offset}: ${(err as Error).message}`, { cause: err }));
          return;
        }
        if (done) return;
        // Avro longs beyond 2^53 are bigints (@cdc/kafka); JSON gets their digits.
        write(JSON.stringify(line, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)));
        printed++;
        if (opts.max !== undefined && printed >= opts.max) finish('max');
      },
    });
    const outcome = await finished;
    if (outcome instanceof Error) throw outcome;
    return { printed, reason: outcome, groupId };
  } finally {
    clearTimeout(joinWatchdog);
    clearTimeout(idle);
    await consumer.disconnect().catch(() => {});
    await deleteThrowAwayGroup(admin, groupId);
  }
}

/** The topic's partition count; a missing topic or partition is an error naming it. */
async function checkTopic(admin: Admin, topic: string, partition: number | undefined): Promise<number> {
  if (!(await admin.listTopics()).includes(topic)) throw new KafkaInspectError(`no such topic: ${topic}`);
  const count = (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0]?.partitions.length ?? 0;
  if (partition !== undefined && partition >= count) throw new KafkaInspectError(`topic ${topic} has ${count} partition(s) (0…${count - 1}); there is no partition ${partition}`);
  return count;
}

/**
 * The consumer has left when disconnect() returns, but the coordinator may still list
 * it for a moment (NON_EMPTY_GROUP): a few short retries. A group left behind holds no
 * offsets and expires with offsets.retention.minutes, so failing here only warns.
 */
async function deleteThrowAwayGroup(admin: Admin, groupId: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await admin.deleteGroups([groupId]);
      return;
    } catch (err) {
      const code = (err as { groups?: { error?: { type?: string } }[] }).groups?.[0]?.error?.type;
      if (code === 'GROUP_ID_NOT_FOUND') return;
      if (attempt >= 5) {
        process.stderr.write(`warning: could not delete the throw-away consumer group ${groupId}: ${(err as Error).message}\n`);
        return;
      }
      await new Promise((r) => setTimeout(r, 300 * attempt));
    }
  }
}

export async function toLine(partition: number, m: KafkaMessage, registry: RegistryDecoder | undefined): Promise<TailLine> {
  const key = await decodeBytes(m.key ?? null, registry);
  const value = await decodeBytes(m.value ?? null, registry);
  const line: TailLine = {
    partition,
    offset: Number(m.offset),
    timestamp: new Date(Number(m.timestamp)).toISOString(),
    // A key that is neither JSON nor registry-encoded is shown as its text (or base64).
    key: key.format === 'raw' ? (key.raw.utf8 ?? { base64: key.raw.base64 }) : key.value,
    headers: headersToText(m.headers),
    value: value.value,
    format: value.format,
  };
  if ('schemaId' in value) line.schemaId = value.schemaId;
  if (value.format === 'raw') {
    line.raw = value.raw;
    if (value.error !== undefined) line.error = value.error;
  }
  return line;
}

export function headersToText(headers: IHeaders | undefined): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, v] of Object.entries(headers ?? {})) {
    if (v === undefined) continue;
    out[name] = Array.isArray(v) ? v.map((x) => x.toString()) : v.toString();
  }
  return out;
}
