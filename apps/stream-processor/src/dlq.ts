import type { KafkaMessage, Producer } from 'kafkajs';

/**
 * Poison messages go to `<topic>.dlq`, unchanged (key, value, original headers),
 * with where they came from and why in headers, so they can be inspected and
 * replayed. Written before the batch's offsets are committed: a crash in between
 * sends a message twice, never loses it.
 */
export async function sendToDlq(
  producer: Producer,
  topic: string,
  partition: number,
  poisoned: readonly { message: KafkaMessage; error: Error }[],
): Promise<void> {
  if (poisoned.length === 0) return;
  // One request for a batch's poison messages: a flood of them must not cost a
  // round trip each.
  await producer.send({
    topic: `${topic}.dlq`,
    acks: -1,
    messages: poisoned.map(({ message, error }) => ({
      key: message.key,
      value: message.value,
      headers: {
        ...message.headers,
        'dlq.error': error.message.slice(0, 2000),
        'dlq.source.topic': topic,
        'dlq.source.partition': String(partition),
        'dlq.source.offset': message.offset,
        'dlq.source.timestamp': message.timestamp,
        'dlq.failed.at': new Date().toISOString(),
      },
    })),
  });
}
