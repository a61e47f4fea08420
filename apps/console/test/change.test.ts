import { describe, expect, it } from 'vitest';
import { readChange } from '../src/messages/change.js';
import { readDlq } from '../src/messages/view.js';

const source = { db: 'crm_db', schema: 'public', table: 'users', lsn: 26969288, txId: 817, ts_ms: 1796608648765 };

describe('readChange', () => {
  it('an update: op, source position and a per-column diff marking what changed', () => {
    const c = readChange({
      op: 'u',
      source,
      before: { id: 1, name: 'Olena', country: 'UA' },
      after: { id: 1, name: 'Olena K.', country: 'UA' },
      transaction: null,
    })!;
    expect(c).toMatchObject({ op: 'u', opName: 'update', db: 'crm_db', table: 'users', lsn: '26969288', txId: '817', sourceTsMs: 1796608648765 });
    expect(c.diff).toEqual([
      { column: 'id', before: 1, after: 1, changed: false },
      { column: 'name', before: 'Olena', after: 'Olena K.', changed: true },
      { column: 'country', before: 'UA', after: 'UA', changed: false },
    ]);
  });

  it('a create has no before and a delete no after: every column changed', () => {
    expect(readChange({ op: 'c', source, before: null, after: { id: 2 } })!.diff).toEqual([{ column: 'id', before: null, after: 2, changed: true }]);
    expect(readChange({ op: 'd', source, before: { id: 2 }, after: null })!.diff).toEqual([{ column: 'id', before: 2, after: null, changed: true }]);
  });

  it('reads through the JSON converter’s schema wrapper; a transaction block gives the id', () => {
    const c = readChange({ schema: { type: 'struct' }, payload: { op: 'r', source, after: { id: 3 }, transaction: { id: '900:123' } } })!;
    expect(c).toMatchObject({ op: 'r', opName: 'read (snapshot)', txId: '900:123' });
  });

  it('is null for anything that is not a change event', () => {
    for (const v of [null, 1, 'x', [], {}, { op: 'c' }, { op: 'x', source }, { payload: { op: 'c', source } }]) {
      expect(readChange(v), JSON.stringify(v)).toBeNull();
    }
  });
});

describe('readDlq', () => {
  it('reads the processor’s dead-letter headers', () => {
    expect(
      readDlq([
        { name: 'dlq.error', value: 'not JSON' },
        { name: 'dlq.source.topic', value: 'telemetry.public.telemetry_events' },
        { name: 'dlq.source.partition', value: '2' },
        { name: 'dlq.source.offset', value: '1580' },
      ]),
    ).toEqual({ error: 'not JSON', sourceTopic: 'telemetry.public.telemetry_events', sourcePartition: 2, sourceOffset: '1580' });
    expect(readDlq([{ name: 'traceparent', value: '00-…' }])).toBeNull();
  });
});
