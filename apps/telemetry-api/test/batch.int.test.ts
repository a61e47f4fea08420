import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  admin,
  countByUuids,
  deleteTestRows,
  errorPaths,
  makeEvent,
  postJson,
  readProblem,
  startTestApi,
  storedRow,
  type TestApi,
  apiFetch,
} from './support.js';

let api: TestApi;
let batchUrl: string;

beforeAll(async () => {
  api = await startTestApi();
  batchUrl = `${api.url}/telemetry-events/batch`;
});

afterAll(async () => {
  await api?.close();
  await deleteTestRows();
  await admin.end();
});

interface BatchBody {
  summary: { inserted: number; duplicate: number; conflict: number; invalid: number };
  results: { index: number; status: string; event_uuid?: string; errors?: { path: string; message: string }[] }[];
}

describe('POST /telemetry-events/batch', () => {
  it('mixed batch: stores exactly the valid new events and reports every item, in order', async () => {
    // Already stored before the batch: one to repeat as is, one to contradict.
    const stored = makeEvent();
    const contradicted = makeEvent({ signal_amplitude: 1.5 });
    expect((await postJson(`${api.url}/telemetry-events`, stored)).status).toBe(201);
    expect((await postJson(`${api.url}/telemetry-events`, contradicted)).status).toBe(201);

    const fresh = makeEvent();
    const { event_uuid: _, ...noUuid } = makeEvent();
    const invalidWithUuid = makeEvent({ signal_frequency: 0, prosthesis_type: 'x\u0000' });
    const infinite = makeEvent();
    const items: unknown[] = [
      fresh, //                                           0 inserted
      { user_id: 'x' }, //                                1 invalid (wrong type, missing fields)
      stored, //                                          2 duplicate (already stored, same payload)
      { ...contradicted, signal_amplitude: 1.25 }, //     3 conflict (already stored, different payload)
      noUuid, //                                          4 inserted, uuid generated
      fresh, //                                           5 duplicate (repeated within the batch)
      { ...fresh, muscle_group: 'triceps' }, //           6 conflict (repeated within the batch, different)
      invalidWithUuid, //                                 7 invalid, its uuid echoed
      { ...makeEvent(), extra: true }, //                 8 invalid (unknown field)
      { ...infinite, signal_amplitude: 987654.321 }, //   9 invalid (1e999 → Infinity, patched in below)
      42, //                                             10 invalid (not an object)
      { ...stored, event_timestamp: stored.event_timestamp.replace('Z', '+00:00') }, // 11 duplicate (same instant)
    ];
    // JSON.stringify cannot write Infinity; the parser turns 1e999 into it.
    const text = JSON.stringify({ events: items }).replace('"signal_amplitude":987654.321', '"signal_amplitude":1e999');
    expect(text).toContain('1e999');

    const res = await postJson(batchUrl, text);
    expect(res.status).toBe(200);
    const body = (await res.json()) as BatchBody;

    expect(body.results.map((r) => r.index)).toEqual(items.map((_, i) => i));
    expect(body.results.map((r) => r.status)).toEqual([
      'inserted',
      'invalid',
      'duplicate',
      'conflict',
      'inserted',
      'duplicate',
      'conflict',
      'invalid',
      'invalid',
      'invalid',
      'invalid',
      'duplicate',
    ]);
    expect(body.summary).toEqual({ inserted: 2, duplicate: 3, conflict: 2, invalid: 5 });

    const r = body.results;
    expect(r[0]!.event_uuid).toBe(fresh.event_uuid);
    expect(r[2]!.event_uuid).toBe(stored.event_uuid);
    expect(r[3]!.event_uuid).toBe(contradicted.event_uuid);
    expect(r[4]!.event_uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(r[7]!.event_uuid).toBe(invalidWithUuid.event_uuid);
    expect(r[1]!.errors!.map((e) => e.path)).toEqual(
      expect.arrayContaining(['user_id', 'prosthesis_type', 'muscle_group', 'signal_frequency', 'signal_duration', 'signal_amplitude', 'event_timestamp']),
    );
    expect(r[1]!.errors).toHaveLength(7);
    expect(r[7]!.errors!.map((e) => e.path)).toEqual(['signal_frequency', 'prosthesis_type']);
    expect(r[8]!.errors!.map((e) => e.path)).toEqual(['']);
    expect(r[9]!.errors!.map((e) => e.path)).toEqual(['signal_amplitude']);
    expect(r[10]!.errors!.map((e) => e.path)).toEqual(['']);
    for (const ok of [0, 2, 3, 4, 5, 6, 11]) expect(r[ok]!.errors).toBeUndefined();

    // The database, event by event.
    expect(await storedRow(fresh.event_uuid)).toMatchObject({ muscle_group: fresh.muscle_group, signal_amplitude: fresh.signal_amplitude });
    expect(await storedRow(r[4]!.event_uuid!)).toMatchObject({ user_id: noUuid.user_id, event_timestamp: noUuid.event_timestamp });
    expect((await storedRow(contradicted.event_uuid))!.signal_amplitude).toBe(1.5);
    expect(await countByUuids([fresh.event_uuid, stored.event_uuid, contradicted.event_uuid, r[4]!.event_uuid!])).toBe(4);
    expect(await countByUuids([invalidWithUuid.event_uuid, infinite.event_uuid])).toBe(0);
  });

  it('stores labels exactly, whatever characters they hold (array literal quoting)', async () => {
    const labels = ['a "quoted", {braced} value', 'back\\slash\\', 'NULL', 'null', ' {} ', 'ß→手 🦾', "it's", 'x'.repeat(100)];
    const events = labels.map((label, i) => makeEvent({ prosthesis_type: label, muscle_group: labels[labels.length - 1 - i] }));
    const body = (await (await postJson(batchUrl, { events })).json()) as BatchBody;
    expect(body.summary.inserted).toBe(labels.length);
    for (const e of events) {
      expect(await storedRow(e.event_uuid)).toMatchObject({
        prosthesis_type: e.prosthesis_type.trim(),
        muscle_group: e.muscle_group.trim(),
      });
    }
    // And a retry of each is a duplicate: what was stored is what was sent.
    const again = (await (await postJson(batchUrl, { events })).json()) as BatchBody;
    expect(again.summary.duplicate).toBe(labels.length);
  });

  it('a retried batch is all duplicates and stores nothing new', async () => {
    const events = Array.from({ length: 50 }, () => makeEvent());
    const first = (await (await postJson(batchUrl, { events })).json()) as BatchBody;
    expect(first.summary).toEqual({ inserted: 50, duplicate: 0, conflict: 0, invalid: 0 });
    const again = (await (await postJson(batchUrl, { events })).json()) as BatchBody;
    expect(again.summary).toEqual({ inserted: 0, duplicate: 50, conflict: 0, invalid: 0 });
    expect(again.results.every((r, i) => r.status === 'duplicate' && r.event_uuid === events[i]!.event_uuid)).toBe(true);
    expect(await countByUuids(events.map((e) => e.event_uuid))).toBe(50);
  });

  it('10,000 valid events in one batch: all stored, one result each, in order', async () => {
    const events = Array.from({ length: 10_000 }, () => makeEvent());
    const res = await postJson(batchUrl, { events });
    expect(res.status).toBe(200);
    const body = (await res.json()) as BatchBody;
    expect(body.summary).toEqual({ inserted: 10_000, duplicate: 0, conflict: 0, invalid: 0 });
    expect(body.results).toHaveLength(10_000);
    expect(body.results.every((r, i) => r.index === i && r.status === 'inserted' && r.event_uuid === events[i]!.event_uuid)).toBe(true);
    expect(await countByUuids(events.map((e) => e.event_uuid))).toBe(10_000);
  });

  it('concurrent batches over the same new uuids, in different orders: no deadlock, each stored once', async () => {
    const events = Array.from({ length: 2000 }, () => makeEvent());
    const shuffled = (seed: number) =>
      events
        .map((e, i) => ({ e, k: (i * 7919 + seed * 104_729) % 2003 }))
        .sort((a, b) => a.k - b.k)
        .map(({ e }) => e);
    const responses = await Promise.all([0, 1, 2, 3].map((seed) => postJson(batchUrl, { events: seed === 0 ? events : shuffled(seed) })));
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    const bodies = (await Promise.all(responses.map((r) => r.json()))) as BatchBody[];
    expect(bodies.reduce((n, b) => n + b.summary.inserted, 0)).toBe(2000);
    expect(bodies.reduce((n, b) => n + b.summary.duplicate, 0)).toBe(3 * 2000);
    expect(await countByUuids(events.map((e) => e.event_uuid))).toBe(2000);
  });

  it('an all-invalid batch is still 200, with nothing stored', async () => {
    const events = [makeEvent({ user_id: 0 }), makeEvent({ muscle_group: '' })];
    const body = (await (await postJson(batchUrl, { events })).json()) as BatchBody;
    expect(body.summary).toEqual({ inserted: 0, duplicate: 0, conflict: 0, invalid: 2 });
    expect(await countByUuids(events.map((e) => e.event_uuid))).toBe(0);
  });

  it('counts outcomes in cdc_telemetry_events_ingested_total', async () => {
    const read = async () => {
      const text = await (await apiFetch(`${api.url}/metrics`)).text();
      return Object.fromEntries(
        [...text.matchAll(/^cdc_telemetry_events_ingested_total\{result="(\w+)"[^}]*\} (\d+)/gm)].map((m) => [m[1], Number(m[2])]),
      );
    };
    const before = await read();
    const a = makeEvent();
    await postJson(batchUrl, { events: [a, a, { ...a, signal_duration: 1 }, {}] });
    const after = await read();
    expect({
      inserted: after.inserted - before.inserted,
      duplicate: after.duplicate - before.duplicate,
      conflict: after.conflict - before.conflict,
      invalid: after.invalid - before.invalid,
    }).toEqual({ inserted: 1, duplicate: 1, conflict: 1, invalid: 1 });
  });
});

describe('POST /telemetry-events/batch: a bad envelope is rejected as a whole', () => {
  it('10,001 items → 422, nothing stored', async () => {
    const events = Array.from({ length: 10_001 }, () => makeEvent());
    const problem = await readProblem(await postJson(batchUrl, { events }), 422);
    expect(errorPaths(problem)).toEqual(['events']);
    expect(problem.errors![0]!.message).toMatch(/10000/);
    expect(await countByUuids(events.map((e) => e.event_uuid))).toBe(0);
  });

  it.each([
    ['an empty list', { events: [] }, ['events']],
    ['events missing', {}, ['events']],
    ['events not an array', { events: { 0: {} } }, ['events']],
    ['events null', { events: null }, ['events']],
    ['not an object (array)', [], ['']],
    ['not an object (string)', 'events', ['']],
    ['not an object (null)', null, ['']],
  ])('%s → 422', async (_, body, paths) => {
    const problem = await readProblem(await postJson(batchUrl, JSON.stringify(body)), 422);
    expect(problem.type).toMatch(/validation-error$/);
    expect(errorPaths(problem)).toEqual(paths);
  });

  it('unknown top-level fields → 422, nothing stored', async () => {
    const event = makeEvent();
    const problem = await readProblem(await postJson(batchUrl, { events: [event], dry_run: true }), 422);
    expect(errorPaths(problem)).toEqual(['']);
    expect(await countByUuids([event.event_uuid])).toBe(0);
  });

  it('malformed JSON → 400, nothing stored', async () => {
    const event = makeEvent();
    const text = JSON.stringify({ events: [event] }).slice(0, -2);
    await readProblem(await postJson(batchUrl, text), 400);
    expect(await countByUuids([event.event_uuid])).toBe(0);
  });

  it('wrong content type → 415, nothing stored', async () => {
    const event = makeEvent();
    const res = await apiFetch(batchUrl, { method: 'POST', headers: { 'content-type': 'text/csv' }, body: JSON.stringify({ events: [event] }) });
    await readProblem(res, 415);
    expect(await countByUuids([event.event_uuid])).toBe(0);
  });

  it('a body over 8 MiB → 413, nothing stored', async () => {
    const event = makeEvent();
    const text = JSON.stringify({ events: [event] }).replace('{', `{${' '.repeat(8 * 1024 * 1024)}`);
    const problem = await readProblem(await postJson(batchUrl, text), 413);
    expect(problem.detail).toContain(String(8 * 1024 * 1024));
    expect(await countByUuids([event.event_uuid])).toBe(0);
  });

  it('a body between 64 KiB and 8 MiB is fine on the batch route', async () => {
    const events = Array.from({ length: 400 }, () => makeEvent());
    expect(JSON.stringify({ events }).length).toBeGreaterThan(64 * 1024);
    const res = await postJson(batchUrl, { events });
    expect(res.status).toBe(200);
    expect(await countByUuids(events.map((e) => e.event_uuid))).toBe(400);
  });
});

it('GET of an event stored by a batch', async () => {
  const event = makeEvent();
  await postJson(batchUrl, { events: [event] });
  const res = await apiFetch(`${api.url}/telemetry-events/${event.event_uuid}`);
  expect(res.status).toBe(200);
  expect(await res.json()).toMatchObject({ event_uuid: event.event_uuid, user_id: event.user_id });
  expect((await apiFetch(`${api.url}/telemetry-events/${randomUUID()}`)).status).toBe(404);
});
