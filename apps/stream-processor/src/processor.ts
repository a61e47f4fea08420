import type { Tracer } from '@opentelemetry/api';
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage, Producer } from 'kafkajs';
import type { Logger } from 'pino';
import type { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { AnalyticsSink } from './clickhouse-sink.js';
import { createDecoder, PoisonMessage, TelemetryRow, tombstoneUserId, UserRow } from './debezium.js';
import { sendToDlq } from './dlq.js';
import { createEnrichedTopic, type EnrichedTopic } from './enriched-topic.js';
import { emptyEnriched, emptyTouched, enrichChange } from './enrich.js';
import { FETCH_DEFAULTS, GROUP_DEFAULTS } from './config.js';
import { GroupWriter, type ChunkWrites } from './group-writer.js';
import { keyHashPartitioner } from './partitioner.js';
import type { ProcessorMetrics } from './metrics.js';
import type { Guard } from './resilience.js';
import { consoleMessagePath } from '@cdc/event-trace';
import { processorSpans } from './tracing.js';
import { UsersDimension } from './users-dimension.js';

export interface ProcessorConfig {
  usersTopic: string;
  eventsTopic: string;
  /** Consumer-group prefix: <prefix>-users (never commits) and <prefix>-enrich. */
  groupPrefix: string;
  /** Messages per ClickHouse write within a fetched batch. */
  chunkSize: number;
  /** Bytes fetched per partition at most (kafkajs maxBytesPerPartition). */
  fetchBytes: number;
  /** Partitions of the events topic processed at once (unset: GROUP_DEFAULTS). */
  partitionsConcurrently?: number;
  /** Rows at most in one group of chunks written together (unset: GROUP_DEFAULTS). */
  groupRows?: number;
  /** An events fetch returns with this many bytes or after fetchWaitMs (unset: the FETCH_DEFAULTS). */
  fetchMinBytes?: number;
  fetchWaitMs?: number;
  /** When set, every enriched row is also written to this topic in Avro (needs `registry`). */
  outputTopic?: string;
  /** When set, a poison message's log line links to its page in the console. */
  consoleUrl?: string;
}

export interface ProcessorDeps {
  kafka: Kafka;
  sink: AnalyticsSink;
  guard: Guard;
  metrics: ProcessorMetrics;
  log: Logger;
  registry?: SchemaRegistry;
  config: ProcessorConfig;
  /** Set when tracing is on: a span per batch, with its writes and sends under it. */
  tracer?: Tracer;
}

export interface Processor {
  /** The user dimension has caught up and the enrichment consumer is running. */
  ready(): boolean;
  stop(): Promise<void>;
}

/**
 * Two kafkajs consumers in one process:
 * - users: reads crm.public.users from the beginning on every start (its group never
 *   commits) into the in-memory user dimension, and keeps following it;
 * - enrich: reads telemetry.public.telemetry_events in its consumer group, enriches
 *   each event with the dimension, writes analytics.telemetry_enriched, recomputes
 *   the aggregates the batch touched, and only then commits the batch's offsets.
 *   Its partitions are worked side by side; their ClickHouse writes go one group at
 *   a time through the GroupWriter, which keeps the aggregates' single-writer order.
 * Enrichment starts once the dimension has caught up with the users topic as it was
 * at start, so events are not marked user-less just because the process is young.
 */
export async function startProcessor(deps: ProcessorDeps): Promise<Processor> {
  const { kafka, sink, guard, metrics, log, config } = deps;
  const dimension = new UsersDimension();
  const unknownUsers = new Set<number>();
  const userDecoder = createDecoder(UserRow, deps.registry);
  const eventDecoder = createDecoder(TelemetryRow, deps.registry);
  const spans = processorSpans(deps.tracer);
  let enrichRunning = false;

  // Zero from the start, so that the first dead letter is an increase Prometheus sees.
  for (const topic of [config.usersTopic, config.eventsTopic]) metrics.processed.inc({ topic, result: 'dlq' }, 0);

  const producer: Producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: keyHashPartitioner });
  await producer.connect();
  let output: EnrichedTopic | undefined;
  if (config.outputTopic) {
    if (!deps.registry) throw new Error(`output topic ${config.outputTopic} needs a schema registry`);
    output = await createEnrichedTopic(producer, deps.registry, config.outputTopic);
    log.info({ topic: output.topic }, 'writing enriched events to Kafka in Avro');
  }

  /** Records for the output topic; Kafka's own retries are behind send(), a failure fails the batch. */
  async function publish(rows: Parameters<EnrichedTopic['publish']>[0]): Promise<void> {
    if (!output || rows.length === 0) return;
    const topic = output;
    try {
      await spans.send(topic.topic, rows.length, () => topic.publish(rows));
    } catch (err) {
      metrics.failures.inc({ what: 'publish' });
      throw err;
    }
  }

  /**
   * The poison messages of one batch: collected while it is processed (anything that
   * is not poison is rethrown) and sent to the DLQ in one request before the batch's
   * offsets move; processing goes on.
   */
  function deadLetters(topic: string, partition: number) {
    const poisoned: { message: KafkaMessage; error: PoisonMessage }[] = [];
    return {
      add(err: unknown, message: KafkaMessage): void {
        if (!(err instanceof PoisonMessage)) throw err;
        poisoned.push({ message, error: err });
      },
      get size() {
        return poisoned.length;
      },
      async flush(): Promise<void> {
        if (poisoned.length === 0) return;
        await spans.send(`${topic}.dlq`, poisoned.length, () => sendToDlq(producer, topic, partition, poisoned));
        metrics.processed.inc({ topic, result: 'dlq' }, poisoned.length);
        for (const { message, error } of poisoned) {
          const at = { topic, partition, offset: message.offset };
          const link = deps.config.consoleUrl && `${deps.config.consoleUrl}${consoleMessagePath(at)}`;
          log.warn({ ...at, err: error.message, ...(link && { console: link }) }, 'poison message → DLQ');
        }
        poisoned.length = 0;
      },
    };
  }

  async function reenrich(userId: number, heartbeat?: () => Promise<void>): Promise<void> {
    const dims = dimension.get(userId);
    if (!dims || !unknownUsers.has(userId)) return;
    const rows = await spans.clickhouse('reenrich', { 'user.id': userId }, () =>
      guard.run(`re-enrich user ${userId}`, () => sink.reenrich(userId, dims), heartbeat),
    );
    await publish(rows);
    unknownUsers.delete(userId);
  }

  // ------------------------------------------------------------ user dimension
  // The users topic is read from the start on every run, and its poison messages with
  // it. How far earlier runs got is kept as the committed offsets of a group nobody
  // joins (<prefix>-users-dead-lettered): a poison message below that mark went to the
  // DLQ already and is only counted, so each one is dead-lettered once.
  const admin = kafka.admin();
  await admin.connect();
  const markGroup = `${config.groupPrefix}-users-dead-lettered`;
  const targets = new Map(
    (await admin.fetchTopicOffsets(config.usersTopic)).map((p) => [p.partition, BigInt(p.high)]),
  );
  const [marked] = await admin.fetchOffsets({ groupId: markGroup, topics: [config.usersTopic] });
  const deadLetteredBelow = new Map(marked!.partitions.map((p) => [p.partition, BigInt(p.offset)]));
  const saveMark = async (partition: number, offset: bigint) => {
    try {
      await admin.setOffsets({ groupId: markGroup, topic: config.usersTopic, partitions: [{ partition, offset: offset.toString() }] });
    } catch (err) {
      // At worst a later run dead-letters a message again (at least once).
      log.warn({ partition, err: (err as Error).message }, 'could not save the dead-letter mark');
    }
  };
  const reached = new Map<number, bigint>();
  let markCaughtUp!: () => void;
  const caughtUp = new Promise<void>((resolve) => (markCaughtUp = resolve));
  let isCaughtUp = false;
  const checkCaughtUp = () => {
    if (isCaughtUp) return;
    for (const [partition, high] of targets) if ((reached.get(partition) ?? 0n) < high) return;
    isCaughtUp = true;
    log.info({ users: dimension.size }, 'user dimension caught up with crm.public.users');
    markCaughtUp();
  };
  checkCaughtUp();

  const usersConsumer: Consumer = kafka.consumer({ groupId: `${config.groupPrefix}-users` });
  await usersConsumer.connect();
  await usersConsumer.subscribe({ topic: config.usersTopic, fromBeginning: true });
  await usersConsumer.run({
    // Never committed: the dimension is rebuilt from the beginning on every start.
    autoCommit: false,
    eachBatchAutoResolve: false,
    eachBatch: ({ batch, resolveOffset, heartbeat }: EachBatchPayload) => spans.batch(`${config.groupPrefix}-users`, batch, async () => {
      const dlq = deadLetters(batch.topic, batch.partition);
      for (const message of batch.messages) {
        try {
          const change = await userDecoder.decode(message.value);
          if (change === null) {
            dimension.forget(tombstoneUserId(message.key));
            metrics.processed.inc({ topic: batch.topic, result: 'tombstone' });
          } else {
            const changed = dimension.apply(change);
            if (changed?.dims) await reenrich(changed.id, heartbeat);
            metrics.processed.inc({ topic: batch.topic, result: 'processed' });
          }
        } catch (err) {
          if (err instanceof PoisonMessage && BigInt(message.offset) < (deadLetteredBelow.get(batch.partition) ?? -1n)) {
            metrics.processed.inc({ topic: batch.topic, result: 'dlq_earlier' });
          } else {
            dlq.add(err, message);
          }
        }
        resolveOffset(message.offset);
        reached.set(batch.partition, BigInt(message.offset) + 1n);
      }
      // Only a batch that dead-lettered something moves the mark (an admin round trip).
      const deadLettered = dlq.size > 0;
      await dlq.flush();
      const next = reached.get(batch.partition)!;
      if (deadLettered && next > (deadLetteredBelow.get(batch.partition) ?? -1n)) {
        deadLetteredBelow.set(batch.partition, next);
        await saveMark(batch.partition, next);
      }
      metrics.users.set(dimension.size);
      checkCaughtUp();
    }),
  });
  await caughtUp;

  // Events stored without their user by an earlier run, whose user is known now.
  for (const id of await spans.clickhouse('unknownUsers', {}, () => guard.run('read user-less events', () => sink.unknownUsers()))) {
    unknownUsers.add(id);
  }
  for (const id of [...unknownUsers]) await reenrich(id);

  // ------------------------------------------------------------ enrichment
  // Bigger fetches than kafkajs's 1 MB default (every batch costs a ClickHouse
  // insert and two recomputes), but bounded: a fetched batch is held in memory
  // while it is decoded and written, and memory is part of the budget.
  const enrichConsumer: Consumer = kafka.consumer({
    groupId: `${config.groupPrefix}-enrich`,
    maxBytesPerPartition: config.fetchBytes,
    maxBytes: config.fetchBytes * 2,
    minBytes: config.fetchMinBytes ?? FETCH_DEFAULTS.minBytes,
    maxWaitTimeInMs: config.fetchWaitMs ?? FETCH_DEFAULTS.waitMs,
  });
  await enrichConsumer.connect();
  await enrichConsumer.subscribe({ topic: config.eventsTopic, fromBeginning: true });

  const pauseAll = () => {
    usersConsumer.pause([{ topic: config.usersTopic }]);
    enrichConsumer.pause([{ topic: config.eventsTopic }]);
    metrics.circuitOpen.set(1);
  };
  const resumeAll = () => {
    usersConsumer.resume([{ topic: config.usersTopic }]);
    enrichConsumer.resume([{ topic: config.eventsTopic }]);
    metrics.circuitOpen.set(0);
  };
  guard.on('open', pauseAll);
  guard.on('close', resumeAll);

  /** Each failed attempt of a ClickHouse write is counted; the guard retries it. */
  const counted = (what: 'insert' | 'recompute', write: () => Promise<void>) => async () => {
    try {
      await write();
    } catch (err) {
      metrics.failures.inc({ what });
      throw err;
    }
  };

  /** One group of chunks: rows inserted, then the aggregates they touched recomputed. */
  async function writeGroup({ enriched, touched, heartbeat }: ChunkWrites): Promise<void> {
    await spans.clickhouse('insertEnriched', { 'cdc.rows': enriched.rows.length }, () =>
      guard.run('insert enriched events', counted('insert', () => sink.insertEnriched(enriched)), heartbeat),
    );
    await spans.clickhouse('recompute', { 'cdc.minutes': touched.minutes.size, 'cdc.users': touched.users.size }, () =>
      guard.run('recompute aggregates', counted('recompute', () => sink.recompute(touched)), heartbeat),
    );
  }
  const writer = new GroupWriter(writeGroup, config.groupRows ?? GROUP_DEFAULTS.rows);

  async function processChunk(payload: EachBatchPayload, messages: EachBatchPayload['batch']['messages']): Promise<void> {
    const { batch, heartbeat } = payload;
    const touched = emptyTouched();
    const enriched = emptyEnriched();
    let newestCommit = 0;
    const dlq = deadLetters(batch.topic, batch.partition);
    for (const message of messages) {
      try {
        const change = await eventDecoder.decode(message.value);
        if (change === null) {
          metrics.processed.inc({ topic: batch.topic, result: 'tombstone' });
          continue;
        }
        enrichChange(change, (id) => dimension.get(id), touched, enriched);
        newestCommit = Math.max(newestCommit, change.sourceTsMs);
        metrics.processed.inc({ topic: batch.topic, result: 'processed' });
      } catch (err) {
        dlq.add(err, message);
      }
    }
    await dlq.flush();
    // The output topic does not wait for ClickHouse, nor ClickHouse for it; the
    // offsets move only once both have the chunk.
    await Promise.all([writer.submit({ enriched, touched, heartbeat }), publish(enriched.changes)]);
    if (newestCommit > 0) metrics.freshnessSeconds.observe(Math.max(0, Date.now() - newestCommit) / 1000);

    // A user may have arrived while this chunk was being enriched without them. After
    // the chunk's own records are out, so that the output topic's last record of an
    // event is the re-enriched one.
    for (const id of touched.unknownUsers) {
      unknownUsers.add(id);
      await reenrich(id, heartbeat);
    }

    const last = messages[messages.length - 1]!.offset;
    payload.resolveOffset(last);
    await enrichConsumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: (BigInt(last) + 1n).toString() }]);
    await heartbeat();
  }

  await enrichConsumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    // Partitions are decoded and published side by side; their ClickHouse writes
    // meet in the group writer, which writes them one group at a time.
    partitionsConsumedConcurrently: config.partitionsConcurrently ?? GROUP_DEFAULTS.partitions,
    eachBatch: (payload) => spans.batch(`${config.groupPrefix}-enrich`, payload.batch, async () => {
      const end = metrics.batchSeconds.startTimer({ topic: payload.batch.topic });
      const { messages } = payload.batch;
      for (let i = 0; i < messages.length; i += config.chunkSize) {
        if (!payload.isRunning() || payload.isStale()) break;
        await processChunk(payload, messages.slice(i, i + config.chunkSize));
      }
      end();
    }),
  });
  enrichRunning = true;
  log.info('enrichment running');

  // kafkajs restarts a consumer after retriable errors; after any other it stays
  // stopped. Then the processor is not ready (health checks see it) and says why,
  // instead of looking healthy while its lag grows.
  let stoppedBy: string | undefined;
  for (const consumer of [usersConsumer, enrichConsumer]) {
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (payload.restart) return;
      stoppedBy = `${payload.groupId}: ${payload.error.message}`;
      log.error({ group: payload.groupId, err: payload.error.message }, 'consumer stopped for good; restart the stream processor');
    });
  }

  return {
    ready: () => isCaughtUp && enrichRunning && stoppedBy === undefined && guard.state !== 'open',
    async stop() {
      guard.shutdown();
      await Promise.allSettled([enrichConsumer.disconnect(), usersConsumer.disconnect()]);
      await Promise.allSettled([producer.disconnect(), admin.disconnect()]);
    },
  };
}
