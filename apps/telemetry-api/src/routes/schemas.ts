import { z } from '@hono/zod-openapi';
import { LIMITS } from '@cdc/schemas';
import { INGEST_RESULTS } from '../metrics.js';
import { InputIssueSchema } from '../problems.js';

export const EventUuidParams = z.object({
  event_uuid: z.uuid().openapi({
    param: { name: 'event_uuid', in: 'path' },
    example: '0d6f1a5e-3c2b-4f7e-9a8d-1b2c3d4e5f60',
  }),
});

/**
 * At runtime only the envelope is checked here (an object with 1 to 10,000 items):
 * each item is validated on its own by the handler, so one bad item does not
 * reject its neighbours. The document still shows the items as
 * IncomingTelemetryEvent, which is what a client must send (the component exists
 * because POST /telemetry-events uses the schema).
 */
export const BatchRequest = z
  .strictObject({
    events: z
      .array(z.unknown().openapi({ allOf: [{ $ref: '#/components/schemas/IncomingTelemetryEvent' }] }))
      .min(1)
      .max(LIMITS.batchMaxItems)
      .openapi({ description: `1 to ${LIMITS.batchMaxItems} events; each is accepted or rejected on its own` }),
  })
  .openapi('TelemetryBatchRequest');

export const BatchItemResult = z
  .object({
    index: z.int().min(0).openapi({ description: 'Position of the item in `events`' }),
    status: z.enum(INGEST_RESULTS).openapi({
      description:
        'inserted: stored now. duplicate: this event_uuid is stored with the same payload (a retry, or a repeat ' +
        'within the batch); nothing changed. conflict: this event_uuid is stored with a different payload; not ' +
        'stored. invalid: the item breaks the schema (see errors); not stored.',
    }),
    event_uuid: z.uuid().optional().openapi({
      description: 'The item’s event_uuid (generated when the item had none); absent for an invalid item without a usable one',
    }),
    errors: z.array(InputIssueSchema).optional().openapi({ description: 'invalid only: every problem, paths relative to the item' }),
  })
  .openapi('TelemetryBatchItemResult');

export const BatchResponse = z
  .object({
    summary: z.object({
      inserted: z.int(),
      duplicate: z.int(),
      conflict: z.int(),
      invalid: z.int(),
    }),
    results: z.array(BatchItemResult).openapi({ description: 'One per item, in input order' }),
  })
  .openapi('TelemetryBatchResponse');
