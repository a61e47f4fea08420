import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, deleteTestRows, KEY, makeEvent, postJson, startTestApi, type TestApi } from './support.js';

/** Every insert writes its audit entry in the same statement: one per request, counting the rows it stored. */
let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => {
  await api.close();
  await deleteTestRows();
  await admin.end();
});

const entries = async (requestId: string) =>
  (await admin.query('SELECT key_id, action, target, detail FROM auth.audit_log WHERE request_id = $1', [requestId])).rows;

describe('audit log of telemetry writes', () => {
  it('one entry per stored event or batch, none for a replay that stores nothing', async () => {
    const one = makeEvent();
    const tag = one.event_uuid;
    expect((await postJson(`${api.url}/telemetry-events`, one, { 'x-request-id': `a1-${tag}` })).status).toBe(201);
    expect(await entries(`a1-${tag}`)).toEqual([{ key_id: KEY.id, action: 'telemetry.insert', target: `telemetry_events/${one.event_uuid}`, detail: { events: 1 } }]);
    expect((await postJson(`${api.url}/telemetry-events`, one, { 'x-request-id': `a2-${tag}` })).status).toBe(200);
    expect(await entries(`a2-${tag}`)).toEqual([]);

    const batch = [makeEvent(), makeEvent(), makeEvent()];
    expect((await postJson(`${api.url}/telemetry-events/batch`, { events: batch }, { 'x-request-id': `a3-${tag}` })).status).toBe(200);
    expect(await entries(`a3-${tag}`)).toEqual([{ key_id: KEY.id, action: 'telemetry.insert', target: 'telemetry_events', detail: { events: 3 } }]);
    // Two new, one already stored: the conflict path counts only what it inserted.
    const mixed = [batch[0], makeEvent(), makeEvent()];
    expect((await postJson(`${api.url}/telemetry-events/batch`, { events: mixed }, { 'x-request-id': `a4-${tag}` })).status).toBe(200);
    expect(await entries(`a4-${tag}`)).toEqual([{ key_id: KEY.id, action: 'telemetry.insert', target: 'telemetry_events', detail: { events: 2 } }]);
    expect((await postJson(`${api.url}/telemetry-events/batch`, { events: batch }, { 'x-request-id': `a5-${tag}` })).status).toBe(200);
    expect(await entries(`a5-${tag}`)).toEqual([]);
  });
});
