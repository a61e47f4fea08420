import { createRequire } from 'node:module';
import { randomBytes, randomUUID } from 'node:crypto';
import { Partitioners, type PartitionMetadata } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { keyHashPartitioner, murmur2 } from '../src/partitioner.js';

// kafkajs's own murmur2 (Long arithmetic, checked against the Java client) is the reference.
const reference = createRequire(import.meta.url)('kafkajs/src/producer/partitioners/default/murmur2.js') as (key: Buffer | string) => number;

const partitions = (n: number): PartitionMetadata[] =>
  Array.from({ length: n }, (_, partitionId) => ({ partitionId, leader: 1, partitionErrorCode: 0, replicas: [1], isr: [1] }));

describe('murmur2', () => {
  it('equals kafkajs\'s Java-compatible hash for every length and byte', () => {
    for (let length = 0; length <= 64; length++) {
      for (let i = 0; i < 50; i++) {
        const key = randomBytes(length);
        expect(murmur2(key)).toBe(reference(key));
      }
    }
  });

  it('hashes a string key as its UTF-8 bytes, as kafkajs does', () => {
    for (const key of [randomUUID(), 'Ísland — α', '', '🦾']) expect(murmur2(Buffer.from(key, 'utf8'))).toBe(reference(key));
  });
});

describe('keyHashPartitioner', () => {
  it('picks the partition kafkajs\'s DefaultPartitioner picks for a keyed record', () => {
    const ours = keyHashPartitioner();
    const library = Partitioners.DefaultPartitioner();
    for (const n of [1, 3, 7, 12]) {
      const partitionMetadata = partitions(n);
      for (let i = 0; i < 500; i++) {
        const key = i % 2 ? randomUUID() : randomBytes(1 + (i % 40));
        const args = { topic: 't', partitionMetadata, message: { key, value: null } };
        expect(ours(args)).toBe(library(args));
      }
    }
  });

  it('keeps a record\'s own partition, and spreads records without a key', () => {
    const ours = keyHashPartitioner();
    const partitionMetadata = partitions(3);
    expect(ours({ topic: 't', partitionMetadata, message: { key: 'k', value: null, partition: 2 } })).toBe(2);
    const seen = new Set(Array.from({ length: 9 }, () => ours({ topic: 't', partitionMetadata, message: { value: null } })));
    expect(seen.size).toBe(3);
  });
});
