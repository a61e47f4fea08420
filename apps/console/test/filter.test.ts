import { describe, expect, it } from 'vitest';
import type { RawMessage } from '@cdc/kafka';
import { FilterError, fieldMatches, matches, parseField } from '../src/messages/filter.js';

const raw = (value: unknown, key: unknown = { id: 1 }): RawMessage => ({
  partition: 0,
  offset: '0',
  timestamp: '0',
  key: key === null ? null : Buffer.from(JSON.stringify(key)),
  value: value === null ? null : Buffer.from(JSON.stringify(value)),
  headers: {},
  sizeBytes: 0,
});
const json = async (m: RawMessage) => JSON.parse(m.value!.toString()) as unknown;

describe('parseField', () => {
  it('reads path, operator and value, quotes removed', () => {
    expect(parseField('after.user_id = 922')).toEqual({ path: ['after', 'user_id'], op: '=', value: '922' });
    expect(parseField("after.country!='UA'")).toEqual({ path: ['after', 'country'], op: '!=', value: 'UA' });
    expect(parseField('after.signal_amplitude >= 0.5')).toMatchObject({ op: '>=', value: '0.5' });
    expect(parseField('source.table ~ tele')).toMatchObject({ op: '~', value: 'tele' });
  });

  it('refuses what is not <path> <op> <value>, saying what it expects', () => {
    for (const bad of ['', 'after.user_id', 'after.user_id =', '= 3', 'a..b = 1', '1abc = 2']) {
      expect(() => parseField(bad), bad).toThrow(FilterError);
    }
    expect(() => parseField('after.user_id')).toThrow(/after\.user_id = 922/);
  });
});

describe('fieldMatches', () => {
  const change = { before: null, after: { user_id: 922, country: 'UA', amp: 0.25, tags: ['a'] }, op: 'c' };

  it('compares as text for = and != and numerically where both sides are numbers', () => {
    expect(fieldMatches(change, parseField('after.user_id = 922'))).toBe(true);
    expect(fieldMatches(change, parseField('after.user_id = 92'))).toBe(false);
    expect(fieldMatches(change, parseField('after.user_id != 92'))).toBe(true);
    expect(fieldMatches(change, parseField('after.amp < 0.3'))).toBe(true);
    // numerically 922 > 1000 is false, as text "922" > "1000" would be true
    expect(fieldMatches(change, parseField('after.user_id > 1000'))).toBe(false);
    expect(fieldMatches(change, parseField('after.country ~ u'))).toBe(true);
    expect(fieldMatches(change, parseField('before = null'))).toBe(true);
    expect(fieldMatches(change, parseField('after.tags = ["a"]'))).toBe(true);
  });

  it('a missing field matches nothing, not even !=', () => {
    expect(fieldMatches(change, parseField('after.nope != 1'))).toBe(false);
    expect(fieldMatches(change, parseField('before.user_id = 922'))).toBe(false);
  });

  it('looks through the JSON converter’s {schema, payload} wrapper', () => {
    expect(fieldMatches({ schema: {}, payload: change }, parseField('after.user_id = 922'))).toBe(true);
  });
});

describe('matches', () => {
  it('checks key and text on the bytes and decodes only for a field filter', async () => {
    let decoded = 0;
    const counting = async (m: RawMessage) => {
      decoded++;
      return json(m);
    };
    const m = raw({ after: { user_id: 7, name: 'Olena' } }, { id: 42 });
    expect(await matches(m, { key: '"id":42' }, counting)).toBe(true);
    expect(await matches(m, { key: '"id":43' }, counting)).toBe(false);
    expect(await matches(m, { text: 'Olena' }, counting)).toBe(true);
    expect(await matches(m, { text: 'Olena', field: parseField('after.user_id = 7') }, counting)).toBe(true);
    expect(await matches(m, { text: 'Olena', field: parseField('after.user_id != 7') }, counting)).toBe(false);
    expect(await matches(m, { text: 'Nobody', field: parseField('after.user_id = 7') }, counting)).toBe(false);
    expect(decoded).toBe(2);
  });

  it('skips parsing a value whose bytes cannot hold an = match, and only then', async () => {
    let decoded = 0;
    const counting = async (m: RawMessage) => {
      decoded++;
      return json(m);
    };
    expect(await matches(raw({ after: { user_id: 7 } }), { field: parseField('after.user_id = 922') }, counting)).toBe(false);
    expect(decoded).toBe(0);
    // "922" is in the bytes, in another field: parsed, and no match.
    expect(await matches(raw({ after: { user_id: 7, n: 922 } }), { field: parseField('after.user_id = 922') }, counting)).toBe(false);
    // A value JSON escapes ("a\"b") is not looked for in the bytes.
    expect(await matches(raw({ after: { name: 'a"b' } }), { field: parseField('after.name = a"b') }, counting)).toBe(true);
    // Binary (wire-format Avro) values are always decoded.
    const avro: RawMessage = { ...raw({}), value: Buffer.from([0, 0, 0, 0, 1, 2]) };
    const avroDecode = async () => {
      decoded++;
      return { after: { user_id: 922 } };
    };
    expect(await matches(avro, { field: parseField('after.user_id = 922') }, avroDecode)).toBe(true);
    expect(decoded).toBe(3);
  });

  it('a tombstone passes no value filter', async () => {
    expect(await matches(raw(null), { field: parseField('after.user_id = 1') }, json)).toBe(false);
    expect(await matches(raw(null), { text: 'x' }, json)).toBe(false);
  });
});
