import type { WriteBy } from '@cdc/db/api-keys';
import type { InputIssue } from '@cdc/http';
import { checkEvent, type NewEvent } from './event-input.js';
import type { EventsRepository } from './events-repository.js';
import type { IngestResult } from './metrics.js';
import { samePayload, type Payload } from './payload.js';

export interface ItemResult {
  index: number;
  status: IngestResult;
  event_uuid?: string;
  errors?: InputIssue[];
}

export interface BatchOutcome {
  summary: Record<IngestResult, number>;
  results: ItemResult[];
}

// A row found neither by the INSERT nor by the SELECT after it was deleted in
// between; the insert is tried again for those few.
const ATTEMPTS = 3;

/**
 * Validates every item on its own, stores the valid new ones with one INSERT, and
 * classifies the rest against what is stored:
 * - the first valid occurrence of a new event_uuid is `inserted`;
 * - any other occurrence (already stored, or repeated in the batch) is `duplicate`
 *   when its payload equals the stored one, else `conflict`.
 * Results come back one per item, in input order.
 */
export async function ingestBatch(items: readonly unknown[], repo: EventsRepository, by: WriteBy): Promise<BatchOutcome> {
  const results = new Array<ItemResult>(items.length);
  const valid = new Array<NewEvent | undefined>(items.length);
  // event_uuid → index of its first valid occurrence: the one offered for insertion.
  const first = new Map<string, number>();
  const candidates: NewEvent[] = [];

  for (let i = 0; i < items.length; i++) {
    const checked = checkEvent(items[i]);
    if (!checked.ok) {
      results[i] = checked.event_uuid
        ? { index: i, status: 'invalid', event_uuid: checked.event_uuid, errors: checked.errors }
        : { index: i, status: 'invalid', errors: checked.errors };
      continue;
    }
    const event = checked.event;
    valid[i] = event;
    if (!first.has(event.event_uuid)) {
      first.set(event.event_uuid, i);
      candidates.push(event);
    }
  }

  const inserted = new Set<string>();
  const existing = new Map<string, Payload>();
  let pending = candidates;
  for (let attempt = 1; pending.length > 0; attempt++) {
    if (attempt > ATTEMPTS) {
      throw new Error(`${pending.length} event(s) neither inserted nor found after ${ATTEMPTS} attempts`);
    }
    const now = await repo.insertMany(pending, by);
    for (const uuid of now) inserted.add(uuid);
    const rest = pending.filter((e) => !now.has(e.event_uuid));
    const found = await repo.findPayloads(rest.map((e) => e.event_uuid));
    for (const [uuid, payload] of found) existing.set(uuid, payload);
    pending = rest.filter((e) => !found.has(e.event_uuid));
  }

  const summary: Record<IngestResult, number> = { inserted: 0, duplicate: 0, conflict: 0, invalid: 0 };
  for (let i = 0; i < items.length; i++) {
    const event = valid[i];
    if (event === undefined) {
      summary.invalid++;
      continue;
    }
    const uuid = event.event_uuid;
    const firstIndex = first.get(uuid)!;
    let status: IngestResult;
    if (inserted.has(uuid)) {
      status = firstIndex === i ? 'inserted' : samePayload(event, valid[firstIndex]!) ? 'duplicate' : 'conflict';
    } else {
      status = samePayload(event, existing.get(uuid)!) ? 'duplicate' : 'conflict';
    }
    summary[status]++;
    results[i] = { index: i, status, event_uuid: uuid };
  }
  return { summary, results };
}
