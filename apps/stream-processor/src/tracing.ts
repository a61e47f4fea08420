import { SpanKind, type Attributes, type Tracer } from '@opentelemetry/api';
import { ATTR_DB_NAMESPACE, ATTR_DB_OPERATION_NAME, ATTR_DB_SYSTEM_NAME } from '@opentelemetry/semantic-conventions';
import { inSpan } from '@cdc/tracing';
import type { Batch } from 'kafkajs';

/*
 * Messaging attribute names of the semantic conventions. They are still
 * "incubating" there, so they are written out here rather than imported from the
 * unstable entry point (its exports may change in any minor release).
 */
const MESSAGING_SYSTEM = 'messaging.system';
const MESSAGING_OPERATION_TYPE = 'messaging.operation.type';
const MESSAGING_OPERATION_NAME = 'messaging.operation.name';
const MESSAGING_DESTINATION_NAME = 'messaging.destination.name';
const MESSAGING_DESTINATION_PARTITION_ID = 'messaging.destination.partition.id';
const MESSAGING_CONSUMER_GROUP_NAME = 'messaging.consumer.group.name';
const MESSAGING_BATCH_MESSAGE_COUNT = 'messaging.batch.message_count';
// Not in the conventions (they only name a single message's offset): the batch's range.
const KAFKA_FIRST_OFFSET = 'messaging.kafka.batch.first_offset';
const KAFKA_LAST_OFFSET = 'messaging.kafka.batch.last_offset';
const KAFKA_HIGH_WATERMARK = 'messaging.kafka.batch.high_watermark';

/**
 * The processor's spans: one CONSUMER span per fetched batch, and under it one per
 * ClickHouse write (including its retries and any wait on the open circuit) and
 * per Kafka send (DLQ, output topic). Without a tracer every method only calls
 * its function: tracing off costs the processor nothing.
 */
export interface ProcessorSpans {
  batch<T>(group: string, batch: Batch, fn: () => Promise<T>): Promise<T>;
  /** A ClickHouse write of the analytics sink (`operation`: the sink method). */
  clickhouse<T>(operation: string, attributes: Attributes, fn: () => Promise<T>): Promise<T>;
  /** Records sent to a Kafka topic. */
  send<T>(topic: string, count: number, fn: () => Promise<T>): Promise<T>;
}

const untraced: ProcessorSpans = {
  batch: (_group, _batch, fn) => fn(),
  clickhouse: (_operation, _attributes, fn) => fn(),
  send: (_topic, _count, fn) => fn(),
};

export function processorSpans(tracer: Tracer | undefined): ProcessorSpans {
  if (!tracer) return untraced;
  return {
    batch(group, batch, fn) {
      const attributes: Attributes = {
        [MESSAGING_SYSTEM]: 'kafka',
        [MESSAGING_OPERATION_TYPE]: 'process',
        [MESSAGING_OPERATION_NAME]: 'process',
        [MESSAGING_DESTINATION_NAME]: batch.topic,
        [MESSAGING_DESTINATION_PARTITION_ID]: String(batch.partition),
        [MESSAGING_CONSUMER_GROUP_NAME]: group,
        [MESSAGING_BATCH_MESSAGE_COUNT]: batch.messages.length,
        [KAFKA_HIGH_WATERMARK]: batch.highWatermark,
      };
      if (batch.messages.length > 0) {
        attributes[KAFKA_FIRST_OFFSET] = batch.firstOffset() ?? batch.messages[0]!.offset;
        attributes[KAFKA_LAST_OFFSET] = batch.lastOffset();
      }
      // A root span: Debezium's messages carry no trace context. The API's trace and
      // this one meet through the event's request_id (stored with it in ClickHouse).
      return inSpan(tracer, `process ${batch.topic}`, { kind: SpanKind.CONSUMER, attributes, root: true }, () => fn());
    },
    clickhouse(operation, attributes, fn) {
      return inSpan(
        tracer,
        `${operation} analytics`,
        {
          kind: SpanKind.CLIENT,
          attributes: { [ATTR_DB_SYSTEM_NAME]: 'clickhouse', [ATTR_DB_NAMESPACE]: 'analytics', [ATTR_DB_OPERATION_NAME]: operation, ...attributes },
        },
        () => fn(),
      );
    },
    send(topic, count, fn) {
      return inSpan(
        tracer,
        `send ${topic}`,
        {
          kind: SpanKind.PRODUCER,
          attributes: {
            [MESSAGING_SYSTEM]: 'kafka',
            [MESSAGING_OPERATION_TYPE]: 'send',
            [MESSAGING_OPERATION_NAME]: 'send',
            [MESSAGING_DESTINATION_NAME]: topic,
            [MESSAGING_BATCH_MESSAGE_COUNT]: count,
          },
        },
        () => fn(),
      );
    },
  };
}
