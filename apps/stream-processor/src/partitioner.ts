import { Partitioners, type ICustomPartitioner } from 'kafkajs';

const M = 0x5bd1e995;
const SEED = 0x9747b28c;

/**
 * Kafka's murmur2 (org.apache.kafka.common.utils.Utils#murmur2) in 32-bit integer
 * arithmetic. kafkajs's own copy computes it with 64-bit Long objects: several
 * allocations per byte, and the largest single cost of publishing a record.
 */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  let h = SEED ^ length;
  const whole = length & ~3;
  for (let i = 0; i < whole; i += 4) {
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  switch (length & 3) {
    case 3:
      h ^= data[whole + 2]! << 16;
    // falls through
    case 2:
      h ^= data[whole + 1]! << 8;
    // falls through
    case 1:
      h ^= data[whole]!;
      h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/**
 * kafkajs's DefaultPartitioner (the Java client's choice for a key: its murmur2,
 * made positive, modulo the partition count), with the hash above. Records without
 * a key or with a partition of their own take the library's path unchanged.
 */
export const keyHashPartitioner: ICustomPartitioner = () => {
  const library = Partitioners.DefaultPartitioner();
  return (args) => {
    const { message, partitionMetadata } = args;
    if (message.partition != null || message.key == null) return library(args);
    const key = typeof message.key === 'string' ? Buffer.from(message.key, 'utf8') : message.key;
    return (murmur2(key) & 0x7fffffff) % partitionMetadata.length;
  };
};
