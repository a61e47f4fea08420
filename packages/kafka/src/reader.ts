import { createRequire } from 'node:module';
import type { KafkajsCluster, KafkajsRecord } from 'kafkajs/src/cluster/index.js';
import { KafkaInspectError } from './errors.js';
import { saslOf, type KafkaAccess } from './client.js';

/**
 * Reads a partition at any offset without a consumer group.
 *
 * kafkajs reads only through a group: joining one costs a JoinGroup/SyncGroup round
 * (seconds with the broker's initial rebalance delay), moves nothing useful and leaves
 * a group behind to delete. Browsing a topic, following a trace or scanning for a field
 * needs plain Fetch requests at chosen offsets, as Kafdrop and kcat send. kafkajs has
 * them, one layer down: its Cluster finds partition leaders and its Broker sends
 * Fetch and decodes record batches. kafkajs 2.2.4 is the last release, so that layer
 * does not move under us; this module is the only place that touches it.
 */
const require = createRequire(import.meta.url);
const Cluster = require('kafkajs/src/cluster/index.js') as new (o: Record<string, unknown>) => KafkajsCluster;
const { createLogger, LEVELS } = require('kafkajs/src/loggers/index.js') as typeof import('kafkajs/src/loggers/index.js');
const socketFactory = require('kafkajs/src/network/socketFactory.js') as () => unknown;
const Encoder = require('kafkajs/src/protocol/encoder.js') as typeof import('kafkajs/src/protocol/encoder.js').default;
const Decoder = require('kafkajs/src/protocol/decoder.js') as typeof import('kafkajs/src/protocol/decoder.js').default;

/** DescribeLogDirs (API key 35) v1, which kafkajs does not implement: how many bytes each partition holds on disk. */
const DESCRIBE_LOG_DIRS = 35;

const READ_COMMITTED = 1;
/** Kafka's OFFSET_OUT_OF_RANGE, which kafkajs throws as KafkaJSOffsetOutOfRange. */
const OFFSET_OUT_OF_RANGE = 'KafkaJSOffsetOutOfRange';

export interface RawMessage {
  partition: number;
  offset: string;
  timestamp: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer | Buffer[] | undefined>;
  /** Key + value + header bytes as stored (the record's own size, before batch framing). */
  sizeBytes: number;
}

export interface ReaderOptions extends KafkaAccess {
  clientId?: string;
  connectionTimeoutMs?: number;
  requestTimeoutMs?: number;
}

export class PartitionReader {
  private readonly cluster: KafkajsCluster;
  private connected: Promise<void> | undefined;

  constructor(private readonly opts: ReaderOptions) {
    this.cluster = new Cluster({
      logger: createLogger({ level: LEVELS.NOTHING, logCreator: () => () => {} }),
      socketFactory: socketFactory(),
      brokers: [...opts.brokers],
      sasl: saslOf(opts),
      clientId: opts.clientId ?? 'cdc-partition-reader',
      connectionTimeout: opts.connectionTimeoutMs ?? 3_000,
      requestTimeout: opts.requestTimeoutMs ?? 15_000,
      enforceRequestTimeout: true,
      metadataMaxAge: 60_000,
      retry: { retries: 2, initialRetryTime: 200 },
      allowAutoTopicCreation: false,
      maxInFlightRequests: null,
      isolationLevel: READ_COMMITTED,
    });
  }

  private connect(): Promise<void> {
    this.connected ??= this.cluster.connect().catch((err: unknown) => {
      this.connected = undefined;
      throw new KafkaInspectError(`cannot connect to Kafka at ${this.opts.brokers.join(',')}: ${(err as Error).message}`, { cause: err });
    });
    return this.connected;
  }

  /**
   * The messages of one partition from `from` (inclusive) up to `to` (exclusive), in
   * offset order, fetched `fetchBytes` at a time; stops early once `maxBytes` were read.
   * Fewer than asked when the range holds compacted-away offsets or transaction markers.
   */
  async read(
    topic: string,
    partition: number,
    from: bigint,
    to: bigint,
    { fetchBytes = 1 << 20, maxBytes = Number.POSITIVE_INFINITY }: { fetchBytes?: number; maxBytes?: number } = {},
  ): Promise<RawMessage[]> {
    await this.connect();
    const out: RawMessage[] = [];
    let next = from;
    let bytes = 0;
    while (next < to) {
      const batch = await this.fetchOnce(topic, partition, next, fetchBytes);
      const fresh = batch.filter((r) => !r.isControlRecord && BigInt(r.offset) >= next && BigInt(r.offset) < to);
      for (const r of fresh) {
        const m = toRaw(partition, r);
        bytes += m.sizeBytes;
        out.push(m);
      }
      if (batch.length === 0) break;
      const last = BigInt(batch[batch.length - 1]!.offset);
      if (last < next) break;
      next = last + 1n;
      if (bytes >= maxBytes) break;
    }
    return out;
  }

  private async fetchOnce(topic: string, partition: number, offset: bigint, maxBytes: number, retried = false): Promise<KafkajsRecord[]> {
    try {
      await this.cluster.addTargetTopic(topic);
      const leaders = this.cluster.findLeaderForPartitions(topic, [partition]);
      const nodeId = Object.keys(leaders)[0];
      if (nodeId === undefined) throw new KafkaInspectError(`topic ${topic} has no partition ${partition}`);
      const broker = await this.cluster.findBroker({ nodeId });
      const res = await broker.fetch({
        replicaId: -1,
        isolationLevel: READ_COMMITTED,
        maxWaitTime: 0,
        minBytes: 0,
        maxBytes,
        topics: [{ topic, partitions: [{ partition, fetchOffset: offset.toString(), maxBytes }] }],
      });
      return res.responses[0]?.partitions[0]?.messages ?? [];
    } catch (err) {
      if ((err as Error).name === OFFSET_OUT_OF_RANGE) return [];
      if (!retried) {
        // kafkajs refreshes metadata for every topic read so far, and fails for all
        // of them once one was deleted (or, just created, is not known yet); moved
        // leadership looks the same. Start over with this topic alone, once.
        await this.resetMetadata();
        return this.fetchOnce(topic, partition, offset, maxBytes, true);
      }
      this.cluster.targetTopics.delete(topic);
      if (err instanceof KafkaInspectError) throw err;
      throw new KafkaInspectError(`${topic}[${partition}]@${offset}: fetch failed: ${(err as Error).message}`, { cause: err });
    }
  }

  private async resetMetadata(): Promise<void> {
    this.cluster.targetTopics.clear();
    await this.cluster.refreshMetadata().catch(() => {});
  }

  /** The one message at an offset, or undefined when it is gone (retention, compaction). */
  async readOne(topic: string, partition: number, offset: bigint): Promise<RawMessage | undefined> {
    const [m] = await this.read(topic, partition, offset, offset + 1n, { fetchBytes: 256 << 10 });
    return m && BigInt(m.offset) === offset ? m : undefined;
  }

  /**
   * Bytes on disk per topic, summed over partitions and brokers (replicas included),
   * from every broker's DescribeLogDirs: the size a topic page shows.
   */
  async topicSizes(): Promise<Map<string, number>> {
    await this.connect();
    await this.cluster.refreshMetadata().catch(() => this.resetMetadata());
    const sizes = new Map<string, number>();
    for (const nodeId of this.cluster.getNodeIds()) {
      const broker = await this.cluster.findBroker({ nodeId: String(nodeId) });
      const dirs = (await broker.connectionPool.send(describeLogDirs())) as LogDir[];
      for (const dir of dirs) {
        for (const t of dir.topics) sizes.set(t.name, (sizes.get(t.name) ?? 0) + t.partitions.reduce((n, p) => n + p.size, 0));
      }
    }
    return sizes;
  }

  async disconnect(): Promise<void> {
    if (this.connected) await this.cluster.disconnect().catch(() => {});
    this.connected = undefined;
  }
}

function toRaw(partition: number, r: KafkajsRecord): RawMessage {
  let size = (r.key?.length ?? 0) + (r.value?.length ?? 0);
  for (const [k, v] of Object.entries(r.headers ?? {})) {
    size += k.length;
    if (Array.isArray(v)) for (const b of v) size += b.length;
    else if (v) size += v.length;
  }
  return { partition, offset: r.offset, timestamp: r.timestamp, key: r.key, value: r.value, headers: r.headers ?? {}, sizeBytes: size };
}

interface LogDir {
  errorCode: number;
  dir: string;
  topics: { name: string; partitions: { partition: number; size: number }[] }[];
}

function describeLogDirs() {
  return {
    request: {
      apiKey: DESCRIBE_LOG_DIRS,
      apiVersion: 1,
      apiName: 'DescribeLogDirs',
      // topics: null asks for every topic.
      encode: async () => new Encoder().writeInt32(-1),
    },
    response: {
      decode: async (raw: Buffer): Promise<LogDir[]> => {
        const d = new Decoder(raw);
        d.readInt32(); // throttle_time_ms
        return d.readArray((r) => ({
          errorCode: r.readInt16(),
          dir: r.readString(),
          topics: r.readArray((t) => ({
            name: t.readString(),
            partitions: t.readArray((p) => {
              const partition = p.readInt32();
              const size = Number(p.readInt64().toString());
              p.readInt64(); // offset_lag
              p.readBoolean(); // is_future_key
              return { partition, size };
            }),
          })),
        }));
      },
      parse: async (decoded: unknown) => decoded,
    },
  };
}
