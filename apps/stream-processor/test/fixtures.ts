import type { ChangeEvent, TelemetryRow, UserRow } from '../src/debezium.js';

/** Row images and change events as the connectors produce them, for the unit tests. */
export const event = (over: Partial<TelemetryRow> = {}): TelemetryRow => ({
  id: 7,
  event_uuid: '0d6f1a5e-3c2b-4f7e-9a8d-1b2c3d4e5f60',
  user_id: 42,
  prosthesis_type: 'bionic_arm',
  muscle_group: 'biceps',
  signal_frequency: 1000,
  signal_duration: 250,
  signal_amplitude: 0.5,
  event_timestamp: '2026-11-25T12:34:56.123456Z',
  saved_ts: '2026-11-25T12:34:57.000001Z',
  ...over,
});

export const user = (id: number, over: Partial<UserRow> = {}): UserRow => ({
  id,
  user_uuid: '6f1c2e4a-8b3d-4e5f-9a0b-1c2d3e4f5a6b',
  name: 'Olena',
  email: `olena+${id}@example.com`,
  registered_at: '2026-11-25T10:00:00.000001Z',
  ...over,
});

export const change = <R>(op: 'r' | 'c' | 'u' | 'd', before: R | null, after: R | null, lsn = 100n): ChangeEvent<R> => ({
  op,
  before,
  after,
  lsn,
  sourceTsMs: 1_795_000_000_000,
});
