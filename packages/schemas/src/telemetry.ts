import { z } from '@hono/zod-openapi';
import { EVENT_TIME_RANGE_MESSAGE, LIMITS } from './limits.js';

const EVENT_TIME_MIN_MS = Date.parse(LIMITS.eventTimeMin);
// eventTimeMax ends in .999999; in milliseconds the range ends one millisecond later.
const EVENT_TIME_END_MS = Date.parse(LIMITS.eventTimeMax) + 1;

const label = (example: string) => z.string().trim().min(1).max(LIMITS.labelLength).openapi({ example });

/**
 * One EMG sample as a client sends it. `event_uuid` is the idempotency key: send it
 * to make retries safe; without it the server generates one. Unknown fields are
 * rejected. JSON cannot carry NaN or Infinity, and z.number() refuses them anyway.
 */
export const IncomingTelemetryEvent = z
  .strictObject({
    event_uuid: z.uuid().optional().openapi({ example: '0d6f1a5e-3c2b-4f7e-9a8d-1b2c3d4e5f60' }),
    user_id: z.int().min(1).max(LIMITS.int32Max).openapi({ example: 42 }),
    prosthesis_type: label('myoelectric_hand'),
    muscle_group: label('forearm_flexors'),
    signal_frequency: z.int().min(1).max(LIMITS.int32Max).openapi({ example: 1000, description: 'Hz, > 0' }),
    signal_duration: z.int().min(0).max(LIMITS.int32Max).openapi({ example: 250, description: 'ms, ≥ 0' }),
    signal_amplitude: z.number().openapi({ example: 0.73, description: 'finite' }),
    event_timestamp: z.iso
      .datetime({ offset: true })
      // Milliseconds decide here; the exact edge (rounding of digits beyond the
      // microsecond) is the API's canonical form's to check (telemetry-api instant.ts).
      .refine((v) => {
        const ms = Date.parse(v);
        return Number.isNaN(ms) || (ms >= EVENT_TIME_MIN_MS && ms < EVENT_TIME_END_MS);
      }, EVENT_TIME_RANGE_MESSAGE)
      .openapi({
        example: '2026-11-25T12:00:00.123456Z',
        description: `When the signal was taken (ISO 8601 with offset), between ${LIMITS.eventTimeMin} and ${LIMITS.eventTimeMax}`,
      }),
  })
  .openapi('IncomingTelemetryEvent');
export type IncomingTelemetryEvent = z.infer<typeof IncomingTelemetryEvent>;

export const TelemetryEvent = z
  .object({
    id: z.string().regex(/^\d+$/).openapi({ example: '1', description: 'int64 as a decimal string (exact beyond 2^53)' }),
    event_uuid: z.uuid(),
    user_id: z.int(),
    prosthesis_type: z.string(),
    muscle_group: z.string(),
    signal_frequency: z.int(),
    signal_duration: z.int(),
    signal_amplitude: z.number(),
    event_timestamp: z.iso.datetime({ offset: true }),
    saved_ts: z.iso.datetime({ offset: true }).openapi({ description: 'Set by the database at insert' }),
  })
  .openapi('TelemetryEvent');
export type TelemetryEvent = z.infer<typeof TelemetryEvent>;

/**
 * The fields a client chooses, in contract order: what an event_uuid identifies
 * (idempotency compares them) and the columns of signal_samples.csv after event_uuid.
 */
export const TELEMETRY_PAYLOAD_FIELDS = [
  'user_id',
  'prosthesis_type',
  'muscle_group',
  'signal_frequency',
  'signal_duration',
  'signal_amplitude',
  'event_timestamp',
] as const satisfies readonly (keyof IncomingTelemetryEvent)[];
