import { describe, expect, it } from 'vitest';
import { needles, userIdOfKey } from '../src/index.js';

describe('userIdOfKey', () => {
  it("reads the id of Debezium's keys, with and without their schema", () => {
    expect(userIdOfKey(Buffer.from('{"id":7}'))).toBe(7);
    expect(userIdOfKey(Buffer.from('{"schema":{"type":"struct"},"payload":{"id":42}}'))).toBe(42);
  });

  it('finds no user in a key that names none, and never guesses', () => {
    for (const key of [null, '', 'not json', '7', '{"id":"7"}', '{"id":7.5}', '{"payload":{}}', 'null', '[7]', `{"id":1,"x":"${'a'.repeat(5000)}"}`]) {
      expect(userIdOfKey(key === null ? null : Buffer.from(key)), String(key).slice(0, 40)).toBeUndefined();
    }
  });
});

describe('needles', () => {
  it('gives each non-blank value once, as hex', () => {
    expect(needles(['a@b.c', 'a@b.c', '', '  ', null, undefined])).toEqual([Buffer.from('a@b.c').toString('hex')]);
  });
});
