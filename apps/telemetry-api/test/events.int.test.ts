import { request } from 'node:http';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalInstant } from '../src/instant.js';
import {
  admin,
  countByUuids,
  deleteTestRows,
  errorPaths,
  makeEvent,
  postJson,
  readJson,
  readProblem,
  startTestApi,
  storedRow,
  type TestApi,
  USER_BASE,
  apiFetch,
  KEY,
} from './support.js';

let api: TestApi;
let eventsUrl: string;

beforeAll(async () => {
  api = await startTestApi();
  eventsUrl = `${api.url}/telemetry-events`;
});

afterAll(async () => {
  await api?.close();
  await deleteTestRows();
  await admin.end();
});

describe('POST /telemetry-events', () => {
  it('stores an event: 201, the stored event, Location', async () => {
    const event = makeEvent({ event_timestamp: '2026-11-25T12:00:00.123456Z', signal_amplitude: 0.1 + 0.2 });
    const res = await postJson(eventsUrl, event);
    expect(res.status).toBe(201);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get('location')).toBe(`/telemetry-events/${event.event_uuid}`);
    const body = await readJson(res);
    expect(body).toEqual({
      ...event,
      id: expect.stringMatching(/^\d+$/),
      saved_ts: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/),
    });
    // Amplitude exactly, timestamp to the microsecond.
    expect(await storedRow(event.event_uuid)).toEqual({
      event_uuid: event.event_uuid,
      user_id: event.user_id,
      prosthesis_type: event.prosthesis_type,
      muscle_group: event.muscle_group,
      signal_frequency: event.signal_frequency,
      signal_duration: event.signal_duration,
      signal_amplitude: 0.30000000000000004,
      event_timestamp: '2026-11-25T12:00:00.123456Z',
    });
  });

  it('a retry with the same payload answers 200 with the same stored event and stores nothing new', async () => {
    const event = makeEvent();
    const first = await postJson(eventsUrl, event);
    expect(first.status).toBe(201);
    const firstBody = await readJson(first);
    const again = await postJson(eventsUrl, event);
    expect(again.status).toBe(200);
    expect(again.headers.get('location')).toBe(`/telemetry-events/${event.event_uuid}`);
    expect(await again.json()).toEqual(firstBody);
    expect(await countByUuids([event.event_uuid])).toBe(1);
  });

  it('compares timestamps as instants: the same instant in another offset is a retry', async () => {
    const event = makeEvent({ event_timestamp: '2026-11-25T12:00:00.5Z' });
    expect((await postJson(eventsUrl, event)).status).toBe(201);
    const res = await postJson(eventsUrl, { ...event, event_timestamp: '2026-11-25T14:30:00.500000+02:30' });
    expect(res.status).toBe(200);
    expect((await readJson(res)).event_timestamp).toBe('2026-11-25T12:00:00.500000Z');
  });

  it('a different payload under a stored event_uuid is 409, naming the differing fields; the row is unchanged', async () => {
    const event = makeEvent({ signal_amplitude: 0.3 });
    expect((await postJson(eventsUrl, event)).status).toBe(201);
    // One ulp away: amplitudes are compared exactly.
    const res = await postJson(eventsUrl, { ...event, signal_amplitude: 0.1 + 0.2, muscle_group: 'biceps' });
    const problem = await readProblem(res, 409);
    expect(problem.type).toMatch(/conflict$/);
    expect(errorPaths(problem)).toEqual(['muscle_group', 'signal_amplitude']);
    const row = await storedRow(event.event_uuid);
    expect(row?.signal_amplitude).toBe(0.3);
    expect(row?.muscle_group).toBe(event.muscle_group);
    expect(await countByUuids([event.event_uuid])).toBe(1);
  });

  it('a timestamp one microsecond apart is a conflict', async () => {
    const event = makeEvent({ event_timestamp: '2026-11-25T12:00:00.000001Z' });
    expect((await postJson(eventsUrl, event)).status).toBe(201);
    const problem = await readProblem(await postJson(eventsUrl, { ...event, event_timestamp: '2026-11-25T12:00:00.000002Z' }), 409);
    expect(errorPaths(problem)).toEqual(['event_timestamp']);
  });

  it('100 concurrent POSTs of one event_uuid store exactly one row: one 201, 99 × 200', async () => {
    const event = makeEvent();
    const responses = await Promise.all(Array.from({ length: 100 }, () => postJson(eventsUrl, event)));
    const statuses = responses.map((r) => r.status);
    const bodies = await Promise.all(responses.map(readJson));
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 200)).toHaveLength(99);
    // Every answer describes the same stored row.
    expect(new Set(bodies.map((b) => b.id)).size).toBe(1);
    expect(await countByUuids([event.event_uuid])).toBe(1);
  });

  it('generates an event_uuid when none is sent (each such POST is a new event)', async () => {
    const { event_uuid: _, ...withoutUuid } = makeEvent();
    const a = await postJson(eventsUrl, withoutUuid);
    const b = await postJson(eventsUrl, withoutUuid);
    expect(a.status).toBe(201);
    expect(b.status).toBe(201);
    const [ea, eb] = [await readJson(a), await readJson(b)];
    expect(ea.event_uuid).toMatch(/^[0-9a-f-]{36}$/);
    expect(ea.event_uuid).not.toBe(eb.event_uuid);
    expect(await countByUuids([ea.event_uuid, eb.event_uuid])).toBe(2);
  });

  it('accepts an upper-case event_uuid, stores it lower-case, and treats either spelling as the same event', async () => {
    const event = makeEvent();
    const upper = { ...event, event_uuid: event.event_uuid.toUpperCase() };
    const res = await postJson(eventsUrl, upper);
    expect(res.status).toBe(201);
    expect((await readJson(res)).event_uuid).toBe(event.event_uuid);
    expect((await postJson(eventsUrl, event)).status).toBe(200);
    expect(await countByUuids([event.event_uuid])).toBe(1);
  });

  it('stores offsets PostgreSQL itself would refuse (beyond ±15:59) as the right instant', async () => {
    const event = makeEvent({ event_timestamp: '2026-11-25T12:00:00+23:00' });
    const res = await postJson(eventsUrl, event);
    expect(res.status).toBe(201);
    expect((await readJson(res)).event_timestamp).toBe('2026-11-24T13:00:00.000000Z');
  });

  it('trims labels as the contract says, so a retry with padding is the same event', async () => {
    const event = makeEvent({ prosthesis_type: 'bionic_arm' });
    expect((await postJson(eventsUrl, event)).status).toBe(201);
    expect((await postJson(eventsUrl, { ...event, prosthesis_type: '  bionic_arm\t' })).status).toBe(200);
  });
});

describe('POST /telemetry-events: bad input is a problem+json and stores nothing', () => {
  async function expectNothingStored(uuid: string) {
    expect(await countByUuids([uuid])).toBe(0);
  }

  it('malformed JSON → 400', async () => {
    const event = makeEvent();
    const text = JSON.stringify(event).slice(0, -5);
    const problem = await readProblem(await postJson(eventsUrl, text), 400);
    expect(problem.type).toMatch(/malformed-json$/);
    await expectNothingStored(event.event_uuid);
  });

  it('NaN is not JSON → 400', async () => {
    const event = makeEvent();
    const text = JSON.stringify({ ...event, signal_amplitude: 0 }).replace('"signal_amplitude":0', '"signal_amplitude":NaN');
    await readProblem(await postJson(eventsUrl, text), 400);
    await expectNothingStored(event.event_uuid);
  });

  it.each([
    ['text/plain', { 'content-type': 'text/plain' }],
    ['form', { 'content-type': 'application/x-www-form-urlencoded' }],
  ])('wrong content type (%s) → 415', async (_, headers) => {
    const event = makeEvent();
    const res = await apiFetch(eventsUrl, { method: 'POST', headers, body: JSON.stringify(event) });
    const problem = await readProblem(res, 415);
    expect(problem.type).toMatch(/unsupported-media-type$/);
    await expectNothingStored(event.event_uuid);
  });

  it('no content type → 415', async () => {
    const event = makeEvent();
    const res = await apiFetch(eventsUrl, { method: 'POST', body: new Blob([JSON.stringify(event)]) });
    await readProblem(res, 415);
    await expectNothingStored(event.event_uuid);
  });

  it('a +json media type (application/vnd.example+json; charset=utf-8) is JSON: accepted', async () => {
    const event = makeEvent();
    const res = await postJson(eventsUrl, event, { 'content-type': 'application/vnd.example+json; charset=utf-8' });
    expect(res.status).toBe(201);
  });

  it('a body over the route limit of 64 KiB → 413 even when it is otherwise valid', async () => {
    const event = makeEvent();
    const text = JSON.stringify(event).replace('{', `{${' '.repeat(70 * 1024)}`);
    expect(JSON.parse(text)).toEqual(event);
    const problem = await readProblem(await postJson(eventsUrl, text), 413);
    expect(problem.type).toMatch(/payload-too-large$/);
    expect(problem.detail).toContain('65536');
    await expectNothingStored(event.event_uuid);
  });

  it('a chunked body (no Content-Length) over 64 KiB → 413 too', async () => {
    const event = makeEvent();
    const text = JSON.stringify(event).replace('{', `{${' '.repeat(70 * 1024)}`);
    const { status, type } = await new Promise<{ status: number; type: string }>((resolve, reject) => {
      const req = request(eventsUrl, { method: 'POST', headers: { 'content-type': 'application/json', ...KEY.headers } }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode!, type: res.headers['content-type'] ?? '' }));
      });
      req.on('error', reject);
      // Two writes without a declared length: Node sends Transfer-Encoding: chunked.
      req.write(text.slice(0, 1000));
      req.end(text.slice(1000));
    });
    expect(status).toBe(413);
    expect(type).toMatch(/^application\/problem\+json/);
    await expectNothingStored(event.event_uuid);
  });

  it('wrong types, missing and unknown fields → 422 listing every problem', async () => {
    const { muscle_group: _, ...event } = makeEvent();
    const res = await postJson(eventsUrl, { ...event, user_id: '42', signal_duration: 2.5, colour: 'red', sensor: 1 });
    const problem = await readProblem(res, 422);
    expect(problem.type).toMatch(/validation-error$/);
    expect(errorPaths(problem)).toEqual(['', 'muscle_group', 'signal_duration', 'user_id']);
    expect(problem.errors!.find((e) => e.path === '')!.message).toMatch(/colour.*sensor/);
    await expectNothingStored(event.event_uuid);
  });

  it('1e999 (parses to Infinity) → 422', async () => {
    const event = makeEvent();
    const text = JSON.stringify({ ...event, signal_amplitude: 0 }).replace('"signal_amplitude":0', '"signal_amplitude":1e999');
    const problem = await readProblem(await postJson(eventsUrl, text), 422);
    expect(errorPaths(problem)).toEqual(['signal_amplitude']);
    await expectNothingStored(event.event_uuid);
  });

  it('-1e999 (-Infinity) → 422', async () => {
    const event = makeEvent();
    const text = JSON.stringify({ ...event, signal_amplitude: 0 }).replace('"signal_amplitude":0', '"signal_amplitude":-1e999');
    const problem = await readProblem(await postJson(eventsUrl, text), 422);
    expect(errorPaths(problem)).toEqual(['signal_amplitude']);
    await expectNothingStored(event.event_uuid);
  });

  it('over-long and blank labels → 422', async () => {
    const event = makeEvent({ prosthesis_type: 'x'.repeat(101), muscle_group: '   ' });
    const problem = await readProblem(await postJson(eventsUrl, event), 422);
    expect(errorPaths(problem)).toEqual(['muscle_group', 'prosthesis_type']);
    await expectNothingStored(event.event_uuid);
  });

  it('labels PostgreSQL cannot store faithfully (NUL, lone surrogate) → 422', async () => {
    const event = makeEvent({ prosthesis_type: 'hand\u0000', muscle_group: 'bad\ud800' });
    const problem = await readProblem(await postJson(eventsUrl, event), 422);
    expect(errorPaths(problem)).toEqual(['muscle_group', 'prosthesis_type']);
    await expectNothingStored(event.event_uuid);
  });

  it('contract and storage problems are listed together', async () => {
    const event = makeEvent({ user_id: -1, muscle_group: 'nul\u0000', event_timestamp: '0000-01-01T00:00:00Z' });
    const problem = await readProblem(await postJson(eventsUrl, event), 422);
    expect(errorPaths(problem)).toEqual(['event_timestamp', 'muscle_group', 'user_id']);
    await expectNothingStored(event.event_uuid);
  });

  it('out-of-range numbers → 422', async () => {
    const event = makeEvent({ user_id: 2 ** 31, signal_frequency: 0, signal_duration: -1 });
    const problem = await readProblem(await postJson(eventsUrl, event), 422);
    expect(errorPaths(problem)).toEqual(['signal_duration', 'signal_frequency', 'user_id']);
    await expectNothingStored(event.event_uuid);
  });

  it.each([
    ['no offset', '2026-11-25T12:00:00'],
    ['not a date', 'yesterday'],
    ['impossible date', '2026-02-30T12:00:00Z'],
    ['year 0000, which PostgreSQL refuses', '0000-06-01T00:00:00Z'],
  ])('bad event_timestamp (%s) → 422', async (_, event_timestamp) => {
    const event = makeEvent({ event_timestamp });
    const problem = await readProblem(await postJson(eventsUrl, event), 422);
    expect(errorPaths(problem)).toEqual(['event_timestamp']);
    await expectNothingStored(event.event_uuid);
  });

  it('a malformed event_uuid → 422', async () => {
    const event = makeEvent({ event_uuid: 'not-a-uuid' });
    const problem = await readProblem(await postJson(eventsUrl, event), 422);
    expect(errorPaths(problem)).toEqual(['event_uuid']);
  });

  it.each([
    ['an array', '[]'],
    ['null', 'null'],
    ['a string', '"event"'],
  ])('a body that is %s → 422', async (_, text) => {
    const problem = await readProblem(await postJson(eventsUrl, text), 422);
    expect(errorPaths(problem)).toEqual(['']);
  });

  it('counts rejected events in cdc_telemetry_events_ingested_total{result="invalid"}', async () => {
    const metric = async () => {
      const text = await (await apiFetch(`${api.url}/metrics`)).text();
      return Number(/cdc_telemetry_events_ingested_total\{result="invalid"[^}]*\} (\d+)/.exec(text)?.[1]);
    };
    const before = await metric();
    await postJson(eventsUrl, makeEvent({ signal_frequency: -5 }));
    expect(await metric()).toBe(before + 1);
  });
});

describe('GET /telemetry-events/{event_uuid}', () => {
  it('returns the stored event', async () => {
    const event = makeEvent();
    const created = await readJson(await postJson(eventsUrl, event));
    const res = await apiFetch(`${eventsUrl}/${event.event_uuid}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(created);
  });

  it('an unknown event_uuid → 404 problem', async () => {
    const problem = await readProblem(await apiFetch(`${eventsUrl}/${randomUUID()}`), 404);
    expect(problem.type).toMatch(/not-found$/);
  });

  it('a malformed event_uuid → 422 problem naming the parameter', async () => {
    const problem = await readProblem(await apiFetch(`${eventsUrl}/12345`), 422);
    expect(errorPaths(problem)).toEqual(['param.event_uuid']);
  });
});

describe('timestamps', () => {
  it('canonicalInstant agrees with PostgreSQL’s own parsing, rounding included', async () => {
    const inputs = [
      '2026-11-25T12:00:00Z',
      '2026-11-25T12:00:00.1Z',
      '2026-11-25T12:00:00.123456Z',
      '2026-11-25T12:00:00.1234565Z',
      '2026-11-25T12:00:00.1234575Z',
      '2026-11-25T12:00:00.9999996Z',
      '2026-12-31T23:59:59.9999999-00:30',
      '2026-11-25T12:00:00.123456789+05:45',
      '2024-02-29T00:00:00-12:00',
      '1970-01-01T00:00:00Z',
      '1970-01-01T01:00:00+01:00',
      '1970-01-01T00:00:00.000001Z',
      '2105-12-31T23:59:59.999999Z',
    ];
    const { rows } = await admin.query<{ s: string }>(
      `SELECT to_char(x::timestamptz AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS s
         FROM unnest($1::text[]) WITH ORDINALITY AS t(x, i) ORDER BY i`,
      [inputs],
    );
    expect(inputs.map(canonicalInstant)).toEqual(rows.map((r) => r.s));
  });

  it('refuses instants ClickHouse cannot store (before 1970, after 2105) with a 422 naming the range', async () => {
    for (const ts of [
      '1969-12-31T23:59:59.999999Z', '1970-01-01T00:30:00+01:00', '2106-01-01T00:00:00Z', '2105-12-31T23:59:59.9999996Z',
      '1900-01-01T00:00:00Z', '2299-12-31T23:59:59Z', '0001-01-01T00:00:00Z', '9999-12-31T23:59:59Z',
    ]) {
      expect(canonicalInstant(ts), ts).toBeUndefined();
      const event = makeEvent({ event_timestamp: ts });
      const problem = await readProblem(await postJson(eventsUrl, event), 422);
      expect(errorPaths(problem), ts).toEqual(['event_timestamp']);
      expect(JSON.stringify(problem)).toMatch(/1970-01-01T00:00:00Z and 2105-12-31/);
      expect(await countByUuids([event.event_uuid])).toBe(0);
    }
  });

  it('refuses the same range in PostgreSQL itself, for writers other than the API', async () => {
    const insert = (ts: string) =>
      admin.query(
        `INSERT INTO telemetry_events (event_uuid, user_id, prosthesis_type, muscle_group, signal_frequency,
                                       signal_duration, signal_amplitude, event_timestamp)
         VALUES ($1, $2, 'test', 'test', 1, 0, 0, $3)`,
        [randomUUID(), USER_BASE, ts],
      );
    for (const ts of ['1969-12-31T23:59:59.999999Z', '2106-01-01T00:00:00Z']) {
      await expect(insert(ts), ts).rejects.toMatchObject({ code: '23514', constraint: 'telemetry_events_event_timestamp_range' });
    }
    // The last storable instant is accepted (the row is removed with the other test rows).
    await expect(insert('2105-12-31T23:59:59.999999Z')).resolves.toMatchObject({ rowCount: 1 });
  });
});
