import { describe, expect, it } from 'vitest';
import { newClusterId } from './components/kafka.js';

describe('Kafka cluster id', () => {
  it('is 16 bytes in URL-safe base64 and never starts with "-" (a command line would read it as an option)', () => {
    // A leading '-' comes up in 1 of 64 ids: 5,000 draws would meet ~78 of them.
    const ids = Array.from({ length: 5_000 }, newClusterId);
    for (const id of ids) {
      expect(id).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
      expect(Buffer.from(id, 'base64url')).toHaveLength(16);
    }
    expect(new Set(ids).size).toBe(ids.length);
  });
});
