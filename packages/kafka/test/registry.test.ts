import avsc from 'avsc';
import { describe, expect, it } from 'vitest';
import { AVRO_OPTIONS, wideLong } from '../src/registry.js';

const schema = { type: 'record', name: 'Source', fields: [{ name: 'lsn', type: 'long' }, { name: 'ts_ns', type: 'long' }] } as const;

describe('wideLong', () => {
  const wide = avsc.Type.forSchema(schema as unknown as avsc.Schema, { ...AVRO_OPTIONS });
  const plain = avsc.Type.forSchema(schema as unknown as avsc.Schema);

  it('reads what plain avsc refuses: a number where exact, a bigint beyond 2^53', () => {
    const bytes = wide.toBuffer({ lsn: 26_887_112, ts_ns: 1_795_627_646_495_123_456n });
    expect(() => plain.fromBuffer(bytes)).toThrow(/precision loss/);
    expect(wide.fromBuffer(bytes)).toEqual({ lsn: 26_887_112, ts_ns: 1_795_627_646_495_123_456n });
  });

  it('writes the same bytes as plain avsc for safe values, and keeps the sign and the edges', () => {
    expect(wide.toBuffer({ lsn: 5, ts_ns: -7 })).toEqual(plain.toBuffer({ lsn: 5, ts_ns: -7 }));
    const edges = { lsn: Number.MAX_SAFE_INTEGER, ts_ns: -(2n ** 63n) };
    expect(wide.fromBuffer(wide.toBuffer(edges))).toEqual(edges);
    expect(wide.isValid({ lsn: 1.5, ts_ns: 0 })).toBe(false);
    expect(wide.isValid({ lsn: 0, ts_ns: 2n ** 63n })).toBe(false);
  });

  it('lets the same options parse two versions of one named record (a table that gained a column)', () => {
    const v2 = { ...schema, fields: [...schema.fields, { name: 'request_id', type: ['null', 'string'], default: null }] };
    const t1 = avsc.Type.forSchema(schema as unknown as avsc.Schema, { ...AVRO_OPTIONS });
    const t2 = avsc.Type.forSchema(v2 as unknown as avsc.Schema, { ...AVRO_OPTIONS });
    expect(t2.fromBuffer(t2.toBuffer({ lsn: 1, ts_ns: 2n ** 60n, request_id: 'r' }))).toEqual({ lsn: 1, ts_ns: 2n ** 60n, request_id: 'r' });
    expect(t1.fromBuffer(t1.toBuffer({ lsn: 1, ts_ns: 2 }))).toEqual({ lsn: 1, ts_ns: 2 });
  });
});
