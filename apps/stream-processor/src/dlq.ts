import type { KafkaMessage, Producer } from 'kafkajs';
import { bySize } from './request-size.js';

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
  // Few requests for a flood of poison messages, but each well under the broker's
  // 1 MiB limit; a value too large to be copied with its headers is cut (the original
  // stays in the source topic at the offset the headers name).
  for (const slice of bySize(poisoned, ({ message }) => Math.min(message.value?.length ?? 0, MAX_VALUE_BYTES) + 1024)) {
    await producer.send({
      topic: `${topic}.dlq`,
      acks: -1,
      messages: slice.map(({ message, error }) => {
        const cut = (message.value?.length ?? 0) > MAX_VALUE_BYTES;
        return {
          key: message.key,
          value: cut ? message.value!.subarray(0, MAX_VALUE_BYTES) : message.value,
          headers: {
            ...message.headers,
            'dlq.error': error.message.slice(0, 2000),
            'dlq.source.topic': topic,
            'dlq.source.partition': String(partition),
            'dlq.source.offset': message.offset,
            'dlq.source.timestamp': message.timestamp,
            'dlq.failed.at': new Date().toISOString(),
            ...(cut ? { 'dlq.value.truncated.from': String(message.value!.length) } : {}),
          },
        };
      }),
    });
  }
}

const MAX_VALUE_BYTES = 512 * 1024;
