import { describe, expect, it } from 'vitest';
import { IncomingTelemetryEvent, IncomingUser, UserPatch } from '../src/index.js';

describe('IncomingUser', () => {
  it('trims and lower-cases the e-mail, keeping +tags and unicode', () => {
    const u = IncomingUser.parse({ name: ' Łukasz ', email: ' Łukasz+Tag@Example.COM ' });
    expect(u).toEqual({ name: 'Łukasz', email: 'łukasz+tag@example.com' });
  });

  it('lists every problem, including unknown fields', () => {
    const r = IncomingUser.safeParse({ name: '', email: 'nope', age: 151, emial: 'x' });
    expect(r.success).toBe(false);
    const paths = r.error!.issues.map((i) => i.path.join('.') || i.code).sort();
    expect(paths).toEqual(['age', 'email', 'name', 'unrecognized_keys']);
  });

  it('PATCH needs at least one field', () => {
    expect(UserPatch.safeParse({}).success).toBe(false);
    expect(UserPatch.parse({ age: null })).toEqual({ age: null });
  });
});

describe('IncomingTelemetryEvent', () => {
  const ok = {
    user_id: 1, prosthesis_type: 'hand', muscle_group: 'flexor',
    signal_frequency: 1000, signal_duration: 0, signal_amplitude: -0.5,
    event_timestamp: '2026-11-25T12:00:00.123456+02:00',
  };

  it('accepts a valid event without event_uuid', () => {
    expect(IncomingTelemetryEvent.parse(ok)).toEqual(ok);
  });

  it.each([
    ['signal_frequency', 0],
    ['signal_duration', -1],
    ['signal_amplitude', Number.POSITIVE_INFINITY],
    ['signal_amplitude', Number.NaN],
    ['user_id', 1.5],
    ['event_timestamp', '2026-11-25 12:00'],
    ['prosthesis_type', '   '],
    ['event_uuid', 'not-a-uuid'],
  ])('rejects %s = %s', (field, value) => {
    const r = IncomingTelemetryEvent.safeParse({ ...ok, [field]: value });
    expect(r.success).toBe(false);
    expect(r.error!.issues[0]!.path).toEqual([field]);
  });
});
