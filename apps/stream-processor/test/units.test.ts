import { describe, expect, it } from 'vitest';
import { createDecoder, PoisonMessage, TelemetryRow, tombstoneUserId, UserRow, type ChangeEvent } from '../src/debezium.js';
import { bySize } from '../src/request-size.js';
import { change, event, user } from './fixtures.js';
import { emptyEnriched, emptyTouched, enrichChange, minuteOf } from '../src/enrich.js';
import { ageBand, UsersDimension } from '../src/users-dimension.js';
import { pino } from 'pino';
import { createGuard } from '../src/resilience.js';



describe('Debezium decoding, decided by the bytes', () => {
  const users = createDecoder(UserRow);

  it('reads a JSON change event', async () => {
    const after = { ...user(1), age: 30, country: 'UA' };
    const c = await users.decode(Buffer.from(JSON.stringify({ op: 'c', before: null, after, source: { lsn: 123, ts_ms: 5 } })));
    expect(c).toEqual({ op: 'c', before: null, after, lsn: 123n, sourceTsMs: 5 });
  });

  it('a user change without what ClickHouse also requires (uuid, name, e-mail, registered_at) is poison', async () => {
    for (const missing of ['user_uuid', 'name', 'email', 'registered_at'] as const) {
      const { [missing]: _, ...after } = user(1);
      await expect(users.decode(Buffer.from(JSON.stringify({ op: 'c', before: null, after, source: { lsn: 1, ts_ms: 1 } }))), missing).rejects.toThrow(PoisonMessage);
    }
  });

  it('a tombstone is nothing to do', async () => {
    expect(await users.decode(null)).toBeNull();
    expect(await users.decode(Buffer.alloc(0))).toBeNull();
  });

  it('an event time no consumer can represent is poison, not a stall', async () => {
    const events = createDecoder(TelemetryRow);
    const msg = (event_timestamp: string) =>
      Buffer.from(JSON.stringify({ op: 'c', before: null, after: event({ event_timestamp }), source: { lsn: 5, ts_ms: 5 } }));
    await expect(events.decode(msg('+10000-01-01T00:00:00Z'))).rejects.toThrow(/four-digit year/);
    await expect(events.decode(msg('2026-13-45T99:00:00Z'))).rejects.toThrow(PoisonMessage);
    await expect(events.decode(msg('2026-02-30T10:00:00Z'))).rejects.toThrow(/four-digit year/);
    await expect(events.decode(msg('2026-11-25T24:00:00Z'))).rejects.toThrow(PoisonMessage);
    expect((await events.decode(msg('2024-02-29T23:59:59.999999Z')))?.after?.event_timestamp).toBe('2024-02-29T23:59:59.999999Z');
    expect((await events.decode(msg('0099-01-01 00:00:00')))?.after?.event_timestamp).toBe('0099-01-01 00:00:00');
    expect((await events.decode(msg('5786-07-04T01:02:03.123456Z')))?.after?.event_timestamp).toBe('5786-07-04T01:02:03.123456Z');
  });

  it('garbage, wrong shapes and Avro without a registry are poison, with the reason', async () => {
    await expect(users.decode(Buffer.from('{not json'))).rejects.toThrow(PoisonMessage);
    await expect(users.decode(Buffer.from(JSON.stringify({ op: 'x' })))).rejects.toThrow(/not a Debezium change event/);
    await expect(users.decode(Buffer.from(JSON.stringify({ op: 'd', before: null, after: null, source: { lsn: 1, ts_ms: 1 } })))).rejects.toThrow(
      /a delete needs `before`/,
    );
    await expect(users.decode(Buffer.from([0, 0, 0, 0, 1, 2, 3]))).rejects.toThrow(/no SCHEMA_REGISTRY_URL/);
  });

  it('invalid UTF-8 anywhere is poison, never text with U+FFFD in it (ClickHouse refuses it too)', async () => {
    const json = JSON.stringify({ op: 'c', before: null, after: user(1, { name: 'Zoë@@' }), source: { lsn: 1, ts_ms: 1 } });
    const [head, tail] = json.split('@@') as [string, string];
    for (const bad of [[0xff], [0xc3], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80]]) {
      const value = Buffer.concat([Buffer.from(head), Buffer.from(bad), Buffer.from(tail)]);
      await expect(users.decode(value), bad.join(',')).rejects.toThrow(/^not JSON: /);
    }
    // The same text, well-formed, is read exactly.
    expect((await users.decode(Buffer.from(json)))?.after?.name).toBe('Zoë@@');
  });
});

describe('user dimension', () => {
  it('age bands', () => {
    expect([null, 0, 17, 18, 29, 30, 44, 45, 59, 60, 74, 75, 150].map(ageBand)).toEqual([
      null, '0-17', '0-17', '18-29', '18-29', '30-44', '30-44', '45-59', '45-59', '60-74', '60-74', '75+', '75+',
    ]);
  });

  it('keeps the latest state per id, forgets deletes and tombstones, ignores replayed older changes', () => {
    const d = new UsersDimension();
    d.apply(change<UserRow>('r', null, { ...user(1), age: 20, gender: 'f', country: 'UA' }, 10n));
    d.apply(change<UserRow>('u', null, { ...user(1), age: 40, gender: 'f', country: 'PL' }, 20n));
    expect(d.apply(change<UserRow>('u', null, { ...user(1), age: 20, gender: 'f', country: 'UA' }, 10n))).toBeUndefined();
    expect(d.get(1)).toEqual({ country: 'PL', gender: 'f', age_band: '30-44' });
    d.apply(change<UserRow>('d', user(1), null, 30n));
    expect(d.get(1)).toBeUndefined();
    d.apply(change<UserRow>('c', null, user(2), 40n));
    d.forget(2);
    expect(d.size).toBe(0);
  });
});

describe('what must never stall a partition', () => {
  it('a tombstone key without an integer id is poison', () => {
    expect(tombstoneUserId(Buffer.from('{"id":42}'))).toBe(42);
    expect(() => tombstoneUserId(Buffer.from('not json'))).toThrow(PoisonMessage);
    expect(() => tombstoneUserId(Buffer.from('{"id":"42"}'))).toThrow(PoisonMessage);
    expect(() => tombstoneUserId(null)).toThrow(PoisonMessage);
  });

  it('requests are sliced under the broker limit, one oversize item alone', () => {
    const kb = (n: number) => n * 1024;
    expect(bySize([kb(300), kb(300), kb(100), kb(900), kb(10)], (n) => n)).toEqual([[kb(300)], [kb(300), kb(100)], [kb(900)], [kb(10)]]);
    expect(bySize([], (n: number) => n)).toEqual([]);
  });

  it('fractional commit times, LSN 0 and labels longer than the column are poison', async () => {
    const events = createDecoder(TelemetryRow);
    const msg = (after: Partial<TelemetryRow>, source: Record<string, unknown> = {}) =>
      Buffer.from(JSON.stringify({ op: 'c', before: null, after: event(after), source: { lsn: 5, ts_ms: 5, ...source } }));
    await expect(events.decode(msg({}, { ts_ms: 5.5 }))).rejects.toThrow(PoisonMessage);
    await expect(events.decode(msg({}, { lsn: 0 }))).rejects.toThrow(PoisonMessage);
    await expect(events.decode(msg({ muscle_group: 'x'.repeat(101) }))).rejects.toThrow(PoisonMessage);
    expect(await events.decode(msg({ muscle_group: 'x'.repeat(100) }))).not.toBeNull();
  });
});

describe('enrichment', () => {
  const dims = (id: number) => (id === 42 ? { country: 'UA', gender: 'female', age_band: '30-44' } : undefined);
  const run = (c: ChangeEvent<TelemetryRow>, t = emptyTouched()) => {
    const out = emptyEnriched();
    enrichChange(c, dims, t, out);
    return out;
  };

  it('joins the user, versions by LSN (known user wins within one change), and records the touched keys', () => {
    const t = emptyTouched();
    const [known] = run(change('c', null, event()), t).rows;
    expect(known).toMatchObject({ user_known: 1, country: 'UA', age_band: '30-44', _lsn: '100', _version: '201', _is_deleted: 0 });
    const [unknown] = run(change('c', null, event({ user_id: 9 })), t).rows;
    expect(unknown).toMatchObject({ user_known: 0, country: null, _version: '200' });
    expect([...t.unknownUsers]).toEqual([9]);
    expect([...t.users].sort()).toEqual([42, 9].sort());
    expect([...t.minutes.values()]).toEqual([{ minute: minuteOf('2026-11-25T12:34:00Z'), prosthesis_type: 'bionic_arm', muscle_group: 'biceps' }]);
  });

  it('a delete writes a deleted row under the event\'s keys, at the change\'s version', () => {
    const out = run(change('d', event(), null));
    expect(out.rows).toEqual([]);
    expect(out.tombstones).toMatchObject([{ _is_deleted: 1, event_uuid: event().event_uuid, user_id: 42, _version: '200' }]);
  });

  it('an update in place writes only the new row; a move also writes the old state deleted, one version below the new row', () => {
    expect(run(change('u', event(), event({ signal_amplitude: 2 })))).toMatchObject({ tombstones: [] });

    const t = emptyTouched();
    const moved = run(change('u', event(), event({ muscle_group: 'triceps' })), t);
    expect(moved.tombstones).toMatchObject([{ muscle_group: 'biceps', user_id: 42, _is_deleted: 1, _version: '199' }]);
    expect(moved.rows).toMatchObject([{ muscle_group: 'triceps', _version: '201' }]);
    expect([...t.minutes.values()].map((k) => k.muscle_group).sort()).toEqual(['biceps', 'triceps']);

    // Unknown new user: the new row is at 2 × LSN, still above the left key.
    const otherUser = run(change('u', event(), event({ user_id: 43 })));
    expect(otherUser.tombstones).toMatchObject([{ user_id: 42, _is_deleted: 1, _version: '199', country: null }]);
    expect(otherUser.rows).toMatchObject([{ user_id: 43, _version: '200' }]);

    const newUuid = run(change('u', event(), event({ event_uuid: '11111111-2222-4333-8444-555555555555' })));
    expect(newUuid.tombstones.map((r) => r.event_uuid)).toEqual(['0d6f1a5e-3c2b-4f7e-9a8d-1b2c3d4e5f60']);
    expect(newUuid.rows.map((r) => r.event_uuid)).toEqual(['11111111-2222-4333-8444-555555555555']);
    // The output topic hears that the old uuid is gone.
    expect(newUuid.changes.map((r) => [r.event_uuid, r._is_deleted])).toEqual([
      ['0d6f1a5e-3c2b-4f7e-9a8d-1b2c3d4e5f60', 1],
      ['11111111-2222-4333-8444-555555555555', 0],
    ]);
  });
});

describe('the ClickHouse write guard', () => {
  it('keeps the consumer in its group while one write takes longer than a heartbeat interval', async () => {
    const guard = createGuard({ retries: 0, minTimeoutMs: 10, maxTimeoutMs: 10, resetTimeoutMs: 1000, log: pino({ level: 'silent' }) });
    let beats = 0;
    try {
      const out = await guard.run('a slow write', () => new Promise<string>((r) => setTimeout(() => r('written'), 6_500)), async () => {
        beats++;
      });
      expect(out).toBe('written');
      // One heartbeat every 3 s while the write ran, none after it.
      expect(beats).toBe(2);
      await new Promise((r) => setTimeout(r, 3_200));
      expect(beats).toBe(2);
    } finally {
      guard.shutdown();
    }
  }, 20_000);
});
