import { createRoute, z } from '@hono/zod-openapi';
import { issuesFromZod, ProblemType, requires, writeBy, type ApiApp } from '@cdc/http';
import { IncomingTelemetryEvent, LIMITS, TelemetryEvent } from '@cdc/schemas';
import { ingestBatch } from '../batch-ingest.js';
import { routeBodyLimit } from '../body-limit.js';
import { toNewEvent, withStorageIssues } from '../event-input.js';
import type { EventsRepository } from '../events-repository.js';
import { BATCH_MAX_BODY_BYTES, SINGLE_MAX_BODY_BYTES } from '../limits.js';
import { INGEST_RESULTS, type IngestCounter } from '../metrics.js';
import { payloadDifferences } from '../payload.js';
import { invalidInput, problemResponse, problems } from '../problems.js';
import { BatchRequest, BatchResponse, EventUuidParams } from './schemas.js';

export interface EventRoutesDeps {
  repo: EventsRepository;
  ingested: IngestCounter;
}

const eventResponse = (description: string) => ({
  description,
  headers: z.object({ Location: z.string().openapi({ example: '/telemetry-events/0d6f1a5e-3c2b-4f7e-9a8d-1b2c3d4e5f60' }) }),
  content: { 'application/json': { schema: TelemetryEvent } },
});

const postEvent = createRoute({
  method: 'post',
  path: '/telemetry-events',
  tags: ['telemetry'],
  summary: 'Store one EMG event (idempotent by event_uuid)',
  ...requires('telemetry:write'),
  description:
    'Send an event_uuid to make retries safe: the same event_uuid with the same payload answers 200 with the ' +
    'stored event and stores nothing new; with a different payload it answers 409. Without an event_uuid the ' +
    'server generates one. event_timestamp is stored with microsecond precision and returned in UTC; payloads ' +
    'are compared as instants, so a retry may use any offset. ' +
    `Body at most ${SINGLE_MAX_BODY_BYTES / 1024} KiB.`,
  middleware: [routeBodyLimit(SINGLE_MAX_BODY_BYTES)] as const,
  request: {
    body: {
      required: true,
      description: 'The event. Unknown fields are rejected.',
      content: { 'application/json': { schema: IncomingTelemetryEvent } },
    },
  },
  responses: {
    201: eventResponse('Stored'),
    200: eventResponse('Already stored with the same payload (a retry); nothing changed'),
    ...problems(400, 401, 403, 409, 413, 415, 422, 429, 500, 503),
  },
});

const postBatch = createRoute({
  method: 'post',
  path: '/telemetry-events/batch',
  tags: ['telemetry'],
  summary: `Store up to ${LIMITS.batchMaxItems} events at once`,
  ...requires('telemetry:write'),
  description:
    'Each item is validated and stored on its own: valid new events are stored even when other items are ' +
    'invalid, and the answer has one result per item, in input order, plus a summary. The same idempotency ' +
    'rules as POST /telemetry-events apply per item (duplicate / conflict), also between items of one batch. ' +
    'Only an unusable envelope (not an object, `events` missing or not an array, empty, more than ' +
    `${LIMITS.batchMaxItems} items, unknown top-level fields) is rejected as a whole (422). ` +
    `Body at most ${BATCH_MAX_BODY_BYTES / 1024 / 1024} MiB.`,
  request: {
    body: { required: true, description: '{ "events": [ … ] }', content: { 'application/json': { schema: BatchRequest } } },
  },
  responses: {
    200: { description: 'Every item’s outcome', content: { 'application/json': { schema: BatchResponse } } },
    ...problems(400, 401, 403, 413, 415, 422, 429, 500, 503),
  },
});

const getEvent = createRoute({
  method: 'get',
  path: '/telemetry-events/{event_uuid}',
  tags: ['telemetry'],
  summary: 'Read one event by its event_uuid',
  ...requires('telemetry:read'),
  request: { params: EventUuidParams },
  responses: {
    200: { description: 'The stored event', content: { 'application/json': { schema: TelemetryEvent } } },
    ...problems(401, 403, 404, 422, 429, 500, 503),
  },
});

const locationOf = (uuid: string) => `/telemetry-events/${uuid}`;

export function registerEventRoutes(app: ApiApp, { repo, ingested }: EventRoutesDeps): void {
  app.openapi(
    postEvent,
    async (c) => {
      const checked = toNewEvent(c.req.valid('json'));
      if (!checked.ok) {
        ingested.inc({ result: 'invalid' });
        return invalidInput(c, checked.errors);
      }
      const { inserted, stored } = await repo.insertOrGet(checked.event, writeBy(c));
      const headers = { Location: locationOf(stored.event_uuid) };
      if (inserted) {
        ingested.inc({ result: 'inserted' });
        return c.json(stored, 201, headers);
      }
      const differences = payloadDifferences(checked.event, stored);
      if (differences.length === 0) {
        ingested.inc({ result: 'duplicate' });
        return c.json(stored, 200, headers);
      }
      ingested.inc({ result: 'conflict' });
      c.get('log').info({ event_uuid: stored.event_uuid, differences }, 'event_uuid reused with a different payload');
      return problemResponse(c, {
        type: ProblemType.conflict,
        title: 'Conflict',
        status: 409,
        detail: `event ${stored.event_uuid} is already stored with a different payload`,
        errors: differences.map((path) => ({ path, message: 'differs from the stored event', code: 'conflict' })),
      });
    },
    // The frame's default hook, plus the storage rules and counting the rejected event.
    (result, c) => {
      if (!result.success) {
        ingested.inc({ result: 'invalid' });
        // @hono/zod-validator hands over the raw input on failure too; its types do not say so.
        const raw = (result as { data?: unknown }).data;
        return invalidInput(c, withStorageIssues(issuesFromZod(result.error), raw));
      }
    },
  );

  app.openapi(postBatch, async (c) => {
    const { events } = c.req.valid('json');
    const outcome = await ingestBatch(events, repo, writeBy(c));
    for (const result of INGEST_RESULTS) {
      if (outcome.summary[result] > 0) ingested.inc({ result }, outcome.summary[result]);
    }
    c.get('log').info({ items: events.length, ...outcome.summary }, 'batch ingested');
    return c.json(outcome, 200);
  });

  app.openapi(getEvent, async (c) => {
    const { event_uuid } = c.req.valid('param');
    const event = await repo.findByUuid(event_uuid);
    if (!event) {
      return problemResponse(c, {
        type: ProblemType.notFound,
        title: 'Not found',
        status: 404,
        detail: `no event with event_uuid ${event_uuid}`,
      });
    }
    return c.json(event, 200);
  });
}
