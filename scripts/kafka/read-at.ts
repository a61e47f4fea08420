import { randomUUID } from 'node:crypto';
import type { Admin, Kafka, KafkaMessage } from 'kafkajs';
import { KafkaCliError } from './errors.js';

/**
 * The one message at topic/partition/offset. kafkajs reads only through a consumer
 * group, so this joins a throw-away group (nothing committed), seeks, and deletes the
 * group on the way out — no real group's position moves.
 */
export async function readAt(kafka: Kafka, admin: Admin, topic: string, partition: number, offset: string, timeoutMs = 30_000): Promise<KafkaMessage> {
  const groupId = `kafka-cli-read-${randomUUID()}`;
  const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false });
  let found!: (m: KafkaMessage) => void;
  const message = new Promise<KafkaMessage>((resolve) => (found = resolve));
  let timer: NodeJS.Timeout | undefined;
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: false });
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ partition: p, message: m }) => {
        if (p === partition && m.offset === offset) found(m);
      },
    });
    consumer.seek({ topic, partition, offset });
    return await Promise.race([
      message,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new KafkaCliError(`${topic}[${partition}]@${offset}: not read within ${timeoutMs / 1000}s`)), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
    await consumer.disconnect();
    await admin.deleteGroups([groupId]).catch(() => undefined);
  }
}
