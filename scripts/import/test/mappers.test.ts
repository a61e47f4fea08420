import { describe, expect, it } from 'vitest';
import { formatIssues, telemetrySpec, usersSpec, validateRow } from '../kinds.js';
import { mapTelemetryRow, mapUserRow, parseIntStrict, parseNumberStrict } from '../mappers.js';
import { numberArray, plainArray, textArray } from '../pg-array.js';
import { deriveEventUuid, timestampMicros, uuidV5 } from '../uuid-v5.js';

// Unit tests: no database. CSV strings → schema input → shared zod schemas.

describe('strict number parsing', () => {
  it.each([
    ['42', 42],
    [' 42 ', 42],
    ['+7', 7],
    ['-7', -7],
    ['007', 7],
  ])('integer %j → %d', (raw, n) => expect(parseIntStrict(raw)).toBe(n));

  it.each(['12abc', '1.5', '1.0', '1e3', '0x10', '', ' ', 'NaN', '١٢', '9007199254740993'])('integer %j is an error', (raw) => {
    expect(parseIntStrict(raw)).toHaveProperty('error');
  });

  it.each([
    ['0.5', 0.5],
    ['-1.25e-3', -0.00125],
    ['.5', 0.5],
    ['5.', 5],
    ['0.500000', 0.5],
    [' -0.734512 ', -0.734512],
  ])('number %j → %d', (raw, n) => expect(parseNumberStrict(raw)).toBe(n));

  it.each(['NaN', 'Infinity', '-Infinity', '1e999', '12abc', '0x10', '1,5', '', '--1', '1e'])('number %j is an error', (raw) => {
    expect(parseNumberStrict(raw)).toHaveProperty('error');
  });
});

describe('row mappers', () => {
  it('users: empty optional cells become null, empty required cells are reported', () => {
    const m = mapUserRow({ name: '  ', email: 'a@b.co', age: '', gender: '', country: 'Ukraine', address: '', phone: ' ', registered_at: ' 2024-01-01T00:00:00Z ' });
    expect(m.issues).toEqual([{ field: 'name', message: 'required, but empty' }]);
    expect(m.input).toEqual({ email: 'a@b.co', age: null, gender: null, country: 'Ukraine', address: null, phone: null, registered_at: '2024-01-01T00:00:00Z' });
  });

  it('users: a missing optional column is null, a bad number is an error (not a truncated number)', () => {
    const m = mapUserRow({ name: 'X', email: 'x@y.z', age: '12abc' });
    expect(m.issues).toEqual([{ field: 'age', message: 'expected an integer, got "12abc"' }]);
    expect(m.input).toMatchObject({ gender: null, phone: null, registered_at: null });
    expect(m.input).not.toHaveProperty('age');
  });

  it('telemetry: numbers parsed, event_uuid absent when empty, nothing else passed', () => {
    const m = mapTelemetryRow({
      event_uuid: '',
      user_id: '7',
      prosthesis_type: ' hand ',
      muscle_group: 'flexor',
      signal_frequency: '1000',
      signal_duration: '0',
      signal_amplitude: '-0.5',
      event_timestamp: '2026-11-25T12:00:00Z',
      extra: 'ignored',
    });
    expect(m.issues).toEqual([]);
    expect(m.input).toEqual({
      user_id: 7,
      prosthesis_type: ' hand ', // the schema trims
      muscle_group: 'flexor',
      signal_frequency: 1000,
      signal_duration: 0,
      signal_amplitude: -0.5,
      event_timestamp: '2026-11-25T12:00:00Z',
    });
  });
});

describe('validateRow (mapper + shared schema)', () => {
  const user = { name: 'Łukasz', email: ' Łukasz+Tag@Example.COM ', age: '34', gender: '', country: '', address: '', phone: '', registered_at: '' };

  it('users: IncomingUser rules apply (trim, lower-cased e-mail with +tag and unicode)', () => {
    const v = validateRow(usersSpec, user);
    expect(v).toEqual({
      ok: true,
      value: { name: 'Łukasz', email: 'łukasz+tag@example.com', age: 34, gender: null, country: null, address: null, phone: null, registered_at: null },
    });
  });

  it('users: every problem of the row, in column order, each once', () => {
    const v = validateRow(usersSpec, { ...user, name: '', email: 'not-an-email', age: '151', registered_at: '2024-13-01T00:00:00Z' });
    expect(v.ok).toBe(false);
    if (v.ok) return;
    expect(v.issues.map((i) => i.field)).toEqual(['name', 'email', 'age', 'registered_at']);
    expect(formatIssues(v.issues)).toBe(
      'name: required, but empty; email: Invalid email address; age: Too big: expected number to be <=150; registered_at: Invalid ISO datetime',
    );
  });

  it('users: "12abc" is reported once, by the mapper, alongside the schema issues', () => {
    const v = validateRow(usersSpec, { ...user, age: '12abc', gender: 'x'.repeat(51) });
    expect(v.ok).toBe(false);
    if (!v.ok) expect(formatIssues(v.issues)).toBe('age: expected an integer, got "12abc"; gender: Too big: expected string to have <=50 characters');
  });

  const event = {
    user_id: '42',
    prosthesis_type: 'myoelectric_hand',
    muscle_group: 'forearm_flexors',
    signal_frequency: '1000',
    signal_duration: '250',
    signal_amplitude: '0.73',
    event_timestamp: '2026-11-25T12:00:00.123456Z',
  };

  it('telemetry: NaN amplitude, "12abc" frequency, 0 duration ok, bad uuid, user_id 0', () => {
    const v = validateRow(telemetrySpec, { ...event, event_uuid: 'nope', user_id: '0', signal_frequency: '12abc', signal_duration: '0', signal_amplitude: 'NaN' });
    expect(v.ok).toBe(false);
    if (!v.ok) {
      expect(v.issues.map((i) => i.field)).toEqual(['event_uuid', 'user_id', 'signal_frequency', 'signal_amplitude']);
    }
  });

  it('telemetry: the shared schema refuses a timestamp without offset and a blank label', () => {
    const v = validateRow(telemetrySpec, { ...event, event_timestamp: '2026-11-25 12:00:00', muscle_group: '   ' });
    expect(v.ok).toBe(false);
    if (!v.ok) expect(v.issues.map((i) => i.field)).toEqual(['muscle_group', 'event_timestamp']);
  });

  it('telemetry: a missing event_uuid is derived, deterministically; a given one is kept (lower-cased)', () => {
    const a = validateRow(telemetrySpec, event);
    const b = validateRow(telemetrySpec, { ...event });
    expect(a.ok && b.ok).toBe(true);
    if (!a.ok || !b.ok) return;
    expect(a.value.event_uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(b.value.event_uuid).toBe(a.value.event_uuid);
    const given = validateRow(telemetrySpec, { ...event, event_uuid: '0D6F1A5E-3C2B-4F7E-9A8D-1B2C3D4E5F60' });
    expect(given.ok && given.value.event_uuid).toBe('0d6f1a5e-3c2b-4f7e-9a8d-1b2c3d4e5f60');
  });
});

describe('deterministic event_uuid (UUID v5)', () => {
  it('matches the RFC 9562 / python uuid5 example', () => {
    // uuid.uuid5(uuid.NAMESPACE_DNS, 'www.example.com')
    expect(uuidV5('www.example.com', '6ba7b810-9dad-11d1-80b4-00c04fd430c8')).toBe('2ed6657d-e927-568b-95e1-2665a8aea6a2');
  });

  const e = {
    user_id: 1,
    prosthesis_type: 'hand',
    muscle_group: 'flexor',
    signal_frequency: 1000,
    signal_duration: 5,
    signal_amplitude: 0.5,
    event_timestamp: '2026-11-25T12:00:00.5Z',
  };

  it('the same instant and value in another notation is the same event', () => {
    const id = deriveEventUuid(e);
    expect(deriveEventUuid({ ...e, event_timestamp: '2026-11-25T14:00:00.500000+02:00' })).toBe(id);
    expect(deriveEventUuid({ ...e, signal_amplitude: Number('0.50') })).toBe(id);
  });

  it('any difference in content is another event', () => {
    const id = deriveEventUuid(e);
    for (const change of [
      { user_id: 2 },
      { prosthesis_type: 'Hand' },
      { muscle_group: 'flexor ' },
      { signal_frequency: 999 },
      { signal_duration: 6 },
      { signal_amplitude: 0.5000001 },
      { event_timestamp: '2026-11-25T12:00:00.500001Z' },
    ]) {
      expect(deriveEventUuid({ ...e, ...change }), JSON.stringify(change)).not.toBe(id);
    }
  });

  it('timestamps to epoch microseconds like PostgreSQL (rounding, offsets, years < 100)', () => {
    expect(timestampMicros('1970-01-01T00:00:00Z')).toBe(0);
    expect(timestampMicros('1970-01-01T01:00:00.000001+01:00')).toBe(1);
    expect(timestampMicros('1970-01-01T00:00:00.0000005Z')).toBe(1);
    expect(timestampMicros('1970-01-01T00:00:00.0000004Z')).toBe(0);
    expect(timestampMicros('0001-01-01T00:00:00Z')).toBe(-62135596800000000);
  });
});

describe('PostgreSQL array literals', () => {
  const rows = [{ s: 'plain' }, { s: 'a "quoted" \\ back' }, { s: null }, { s: 'NULL' }, { s: '{x, y}' }, { s: ' ' }];
  it('text: every element quoted, " and \\ escaped, null as NULL', () => {
    expect(textArray(rows, (r) => r.s)).toBe('{"plain","a \\"quoted\\" \\\\ back",NULL,"NULL","{x, y}"," "}');
  });
  it('numbers: shortest round-trip form; NaN refused', () => {
    expect(numberArray([1, -0.5, 1e-7, null, 2 ** 31 - 1], (x) => x)).toBe('{1,-0.5,1e-7,NULL,2147483647}');
    expect(() => numberArray([NaN], (x) => x)).toThrow();
  });
  it('plain values: only what a UUID or an ISO timestamp may hold', () => {
    expect(plainArray(['2026-11-25T12:00:00.5+02:00', null], (x) => x)).toBe('{2026-11-25T12:00:00.5+02:00,NULL}');
    expect(() => plainArray(['a,b'], (x) => x)).toThrow();
  });
});
