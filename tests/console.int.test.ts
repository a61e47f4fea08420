import { randomInt, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadStackConfig } from '../scripts/stack/config.js';
import { consoleTokenFile } from '../scripts/stack/console.js';
import { up } from '../scripts/stack/stack.js';
import type { Message, MessagePage, RowsView, SearchProgress, SqlResult, TopicDetail, TraceView } from '../apps/console/src/contract.js';
import { createConsoleApp } from '../apps/console/src/app.js';
import { loadConfig } from '../apps/console/src/config.js';
import { createDeps } from '../apps/console/src/deps.js';
import pino from 'pino';
import { clickhouse, env, until } from './support/cdc.js';
import { postEvents, withTopic } from './support/console-data.js';

/**
 * The console's API against the tests' stack, as its pages use it: browsing a topic
 * newest first, a field filter over the topic with progress, a message's rows in both
 * stores, connector actions behind the token, SQL run and cancel, a trace. Then many
 * clients at once, some going away mid-stream.
 */
const stack = loadStackConfig();
const base = `http://127.0.0.1:${env.CONSOLE_PORT}`;
const api = (path: string, init?: RequestInit) => fetch(`${base}/api${path}`, init);
const EVENTS = 'telemetry.public.telemetry_events';
const ch = clickhouse();
let token: string;
// A user id no other test posts events for: a field filter on it has a known answer.
const userId = 1_500_000_000 + randomInt(100_000_000);
const uuids: string[] = [];

async function json<T>(res: Response | Promise<Response>): Promise<T> {
  const r = await res;
  const text = await r.text();
  if (!r.ok) throw new Error(`${r.url} → ${r.status}: ${text}`);
  return JSON.parse(text) as T;
}

interface Sse {
  events: { event: string; data: unknown }[];
}

/** Reads a server-sent-event stream to its end (or until `stopAfter` events, then goes away). */
async function readSse(path: string, stopAfter = Number.POSITIVE_INFINITY): Promise<Sse> {
  const ctl = new AbortController();
  const res = await fetch(`${base}/api${path}`, { signal: ctl.signal });
  expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const events: Sse['events'] = [];
  const decoder = new TextDecoder();
  let buf = '';
  try {
    for await (const chunk of res.body!) {
      buf += decoder.decode(chunk as Uint8Array, { stream: true });
      let i;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1] ?? 'message';
        const data = block
          .split('\n')
          .filter((l) => l.startsWith('data: '))
          .map((l) => l.slice(6))
          .join('\n');
        events.push({ event, data: JSON.parse(data) });
        if (events.length >= stopAfter) {
          ctl.abort();
          return { events };
        }
      }
    }
  } catch (err) {
    if (!ctl.signal.aborted) throw err;
  }
  return { events };
}

beforeAll(async () => {
  await up(stack, ['apps']);
  token = readFileSync(consoleTokenFile(stack), 'utf8').trim();
  // 7 events of the user, and 23 of another so that every partition has several.
  uuids.push(...(await postEvents(userId, 30, 7)));
  // Every event in ClickHouse: then it has passed Kafka too.
  await until(
    'the events in ClickHouse',
    async () => {
      const rs = await ch.query({ query: 'SELECT count() AS n FROM default.telemetry_events WHERE user_id = {u:Int32}', query_params: { u: userId }, format: 'JSONEachRow' });
      return Number((await rs.json<{ n: string }>())[0]!.n) === 7 || undefined;
    },
    120_000,
    500,
  );
}, 300_000);

afterAll(async () => {
  await ch.close();
});

describe('console: Kafka', () => {
  it('lists the CDC topics with their messages', async () => {
    const topics = await json<{ topic: string; messages: number; partitions: number; sizeBytes: number | null }[]>(api('/topics'));
    const events = topics.find((t) => t.topic === EVENTS);
    expect(events?.messages).toBeGreaterThanOrEqual(7);
    // DescribeLogDirs: at least the bytes of the 30 events this file posted.
    expect(events?.sizeBytes).toBeGreaterThan(30 * 500);
    expect(events?.partitions).toBeGreaterThan(0);
  });

  it('pages a topic newest first, and the next page continues where the first ended', async () => {
    const first = await json<MessagePage>(api(`/topics/${EVENTS}/messages?limit=5`));
    expect(first.messages).toHaveLength(5);
    const ts = first.messages.map((m) => Date.parse(m.timestamp));
    expect(ts).toEqual([...ts].sort((a, b) => b - a));
    for (const m of first.messages) expect(m.change?.table).toBe('telemetry_events');
    // The fullest partition, paged: offsets strictly descending, no overlap between pages.
    const detail = await json<TopicDetail>(api(`/topics/${EVENTS}`));
    const p = detail.partitionInfo.reduce((a, b) => (b.messages > a.messages ? b : a)).partition;
    const a = await json<MessagePage>(api(`/topics/${EVENTS}/messages?partition=${p}&limit=3`));
    const older = a.older.find((o) => o.partition === p)!;
    const b = await json<MessagePage>(api(`/topics/${EVENTS}/messages?partition=${p}&limit=3&offset=${older.offset}`));
    const offsets = [...a.messages, ...b.messages].map((m) => Number(m.offset));
    expect(offsets).toEqual([...offsets].sort((x, y) => y - x));
    expect(new Set(offsets).size).toBe(offsets.length);
    expect(Number(b.messages[0]!.offset)).toBe(Number(older.offset));
  });

  it('finds exactly one user’s events by a field filter, with progress, and opens one with its rows in both stores', async () => {
    const { events } = await readSse(`/topics/${EVENTS}/search?field=${encodeURIComponent(`after.user_id = ${userId}`)}&limit=50`);
    const matches = events.filter((e) => e.event === 'match').map((e) => e.data as Message);
    const done = events.find((e) => e.event === 'done')!.data as SearchProgress;
    expect(events.at(-1)!.event).toBe('done');
    expect(matches.map((m) => (m.change!.after as { event_uuid: string }).event_uuid).sort()).toEqual([...uuids].sort());
    expect(done.matched).toBe(7);
    expect(done.scanned).toBe(done.total);

    const m = matches[0]!;
    const one = await json<Message>(api(`/messages/${EVENTS}/${m.partition}/${m.offset}`));
    expect(one.value).toEqual(m.value);
    const rows = await json<RowsView>(api(`/messages/${EVENTS}/${m.partition}/${m.offset}/rows`));
    const uuid = (m.change!.after as { event_uuid: string }).event_uuid;
    expect(rows.postgres!.rows.map((r) => r.event_uuid)).toEqual([uuid]);
    expect(rows.clickhouse!.rows.map((r) => r.event_uuid)).toEqual([uuid]);
    expect(rows.clickhouse!.rows[0]!._is_deleted).toBe(0);
  });

  it('filters by text and by key on the bytes', async () => {
    const { events } = await readSse(`/topics/${EVENTS}/search?text=${uuids[3]}`);
    const matches = events.filter((e) => e.event === 'match').map((e) => e.data as Message);
    expect(matches).toHaveLength(1);
    const key = JSON.stringify(matches[0]!.key.value);
    const byKey = await readSse(`/topics/${EVENTS}/search?key=${encodeURIComponent(key)}&partition=${matches[0]!.partition}`);
    expect(byKey.events.filter((e) => e.event === 'match').map((e) => (e.data as Message).offset)).toEqual([matches[0]!.offset]);
  });

  it('decodes Avro through the registry, shows a dead letter’s headers as such, and tombstones', async () => {
    // The processor writes the enriched events in Avro (STREAM_PROCESSOR_OUTPUT_TOPIC).
    const avro = await until('an enriched event in Kafka', async () => {
      // The processor creates the topic with its first write: it may not be there yet.
      const page = await json<MessagePage>(api('/topics/analytics.telemetry_enriched/messages?limit=50')).catch(() => ({ messages: [] as Message[] }));
      return page.messages.find((m) => uuids.includes((m.value.value as { event_uuid?: string } | null)?.event_uuid ?? ''));
    }, 60_000, 500);
    expect(avro.value.format).toBe('avro');
    expect(avro.value.format === 'avro' && avro.value.schemaId).toBeGreaterThan(0);

    const topic = await withTopic(
      'console-test',
      [
        {
          key: '{"id":1}',
          value: 'not json {',
          headers: { 'dlq.error': 'not JSON: Unexpected token', 'dlq.source.topic': EVENTS, 'dlq.source.partition': '2', 'dlq.source.offset': '1580' },
        },
        { key: '{"id":1}', value: null },
      ],
      async (topic) => {
        const page = await json<MessagePage>(api(`/topics/${topic}/messages`));
        const [tombstone, dead] = page.messages.sort((a, b) => Number(b.offset) - Number(a.offset));
        expect(tombstone!.value).toEqual({ format: 'tombstone', value: null });
        expect(dead!.value).toMatchObject({ format: 'raw', raw: { utf8: 'not json {' } });
        expect(dead!.dlq).toEqual({ error: 'not JSON: Unexpected token', sourceTopic: EVENTS, sourcePartition: 2, sourceOffset: '1580' });
      },
    );
    // A topic the console read and someone deleted must not break every other topic
    // (kafkajs keeps refreshing metadata for it).
    await until('the topic gone', async () => !(await json<{ topic: string }[]>(api('/topics'))).some((t) => t.topic === topic), 30_000, 300);
    expect((await json<MessagePage>(api(`/topics/${EVENTS}/messages?limit=1`))).messages).toHaveLength(1);
    expect((await api(`/topics/${topic}/messages`)).status).toBe(404);
    expect((await api(`/messages/${topic}/0/0`)).status).toBe(404);
    expect((await api('/groups')).status).toBe(200);
  });

  it('answers bad input with a problem naming it', async () => {
    const cases: [string, number, RegExp][] = [
      [`/topics/${EVENTS}/search?field=after.user_id`, 400, /after\.user_id = 922/],
      [`/topics/${EVENTS}/search`, 400, /at least one of key, text, field/],
      [`/topics/${EVENTS}/messages?partition=x`, 400, /partition/],
      [`/topics/${EVENTS}/messages?timestamp=yesterday`, 400, /timestamp/],
      [`/topics/no.such.topic/messages`, 404, /no such topic/],
      [`/messages/${EVENTS}/0/999999999`, 404, /no such message/],
      ['/trace/not-a-uuid', 400, /not an event uuid/],
      [`/trace/${randomUUID()}`, 404, /no event/],
    ];
    for (const [path, status, detail] of cases) {
      const res = await api(path);
      expect(res.status, path).toBe(status);
      expect(res.headers.get('content-type'), path).toMatch(/problem\+json/);
      expect(((await res.json()) as { detail: string }).detail, path).toMatch(detail);
    }
  });
});

describe('console: connectors', () => {
  it('pauses and resumes a connector only with the token', async () => {
    const url = '/connectors/crm-connector/pause';
    expect((await api(url, { method: 'POST' })).status).toBe(401);
    expect((await api(url, { method: 'POST', headers: { authorization: 'Bearer wrong-token-wrong-token' } })).status).toBe(401);
    const auth = { authorization: `Bearer ${token}` };
    try {
      expect((await api(url, { method: 'POST', headers: auth })).status).toBe(202);
      await until('PAUSED', async () => (await json<{ name: string; state: string }[]>(api('/connectors'))).find((c) => c.name === 'crm-connector')?.state === 'PAUSED', 30_000, 300);
    } finally {
      expect((await api('/connectors/crm-connector/resume', { method: 'POST', headers: auth })).status).toBe(202);
    }
    await until('RUNNING', async () => (await json<{ name: string; state: string }[]>(api('/connectors'))).find((c) => c.name === 'crm-connector')?.state === 'RUNNING', 30_000, 300);
    expect((await api('/connectors/no-such/pause', { method: 'POST', headers: auth })).status).toBe(404);
    expect((await api('/connectors/crm-connector/explode', { method: 'POST', headers: auth })).status).toBe(404);
  });

  it('a console started without a token refuses every action (403), reads still work', async () => {
    const config = loadConfig({ ...process.env, CONSOLE_TOKEN: '', LOG_LEVEL: 'silent' });
    const deps = createDeps(config, pino({ level: 'silent' }));
    try {
      const { app } = createConsoleApp(deps);
      const res = await app.request('/api/connectors/crm-connector/pause', { method: 'POST', headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(403);
      expect(((await res.json()) as { detail: string }).detail).toMatch(/CONSOLE_TOKEN/);
      const session = (await (await app.request('/api/session')).json()) as { writeEnabled: boolean };
      expect(session.writeEnabled).toBe(false);
      expect((await app.request('/api/connectors')).status).toBe(200);
    } finally {
      await deps.close();
    }
  });

  it('shows both databases’ replication slots', async () => {
    const slots = await json<{ slots: { database: string; slot: string; active: boolean }[] }>(api('/slots'));
    expect(slots.slots.map((s) => s.database).sort()).toEqual(['crm_db', 'telemetry_db']);
    expect(slots.slots.every((s) => s.active)).toBe(true);
  });
});

describe('console: SQL', () => {
  const run = (query: string, queryId = randomUUID()) =>
    api('/sql', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, queryId }) });

  it('runs a query as the read-only user with typed columns', async () => {
    const r = await json<SqlResult>(run(`SELECT user_id, count() AS n FROM default.telemetry_events WHERE user_id = ${userId} GROUP BY user_id`));
    expect(r.columns).toEqual([{ name: 'user_id', type: 'Int32' }, { name: 'n', type: 'UInt64' }]);
    // JSON's 64-bit integers: a string or a number, by the server's output_format_json_quote_64bit_integers.
    expect(r.rows.map(([u, n]) => [u, Number(n)])).toEqual([[userId, 7]]);
    const write = await run('INSERT INTO default.users (id) VALUES (1)');
    expect(write.status).toBe(400);
  });

  it('cancels a running query by its id', async () => {
    const queryId = randomUUID();
    const t0 = Date.now();
    const running = run('SELECT count() FROM numbers(1000000000000)', queryId);
    await new Promise((r) => setTimeout(r, 1_000));
    expect((await api(`/sql/${queryId}/cancel`, { method: 'POST' })).status).toBe(202);
    const res = await running;
    expect(res.status).toBe(400);
    expect(((await res.json()) as { detail: string }).detail).toMatch(/cancel/i);
    expect(Date.now() - t0).toBeLessThan(20_000);
  });

  it('downloads a result as CSV', async () => {
    const res = await api(`/sql/csv?query=${encodeURIComponent('SELECT number AS n FROM numbers(3)')}`);
    expect(res.headers.get('content-disposition')).toMatch(/attachment/);
    expect(await res.text()).toBe('"n"\n0\n1\n2\n');
  });
});

describe('console: trace and schemas', () => {
  it('traces an event and its Kafka link opens the same event', async () => {
    const t = await json<TraceView>(api(`/trace/${uuids[0]}`));
    expect(t.hops.map((h) => h.hop)).toEqual(expect.arrayContaining(['API accepted', 'PostgreSQL commit', 'Kafka', 'ClickHouse row']));
    expect(t.postgres?.event_uuid).toBe(uuids[0]);
    expect((t.kafka!.change!.after as { event_uuid: string }).event_uuid).toBe(uuids[0]);
    const link = t.hops.find((h) => h.hop === 'Kafka')!.link!;
    const [partition, offset] = link.split('/').slice(-2);
    expect(link).toBe(`/kafka/topics/${EVENTS}/messages/${partition}/${offset}`);
    const m = await json<Message>(api(`/messages/${EVENTS}/${partition}/${offset}`));
    expect((m.change!.after as { event_uuid: string }).event_uuid).toBe(uuids[0]);
    // The deep link itself is a page of the front end.
    const page = await fetch(`${base}${link}`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
  });

  it('lists the registry’s subjects', async () => {
    const subjects = await json<{ subject: string; versions: { schema: string }[] }[]>(api('/schemas'));
    const enriched = subjects.find((s) => s.subject === 'analytics.telemetry_enriched-value');
    expect(enriched?.versions[0]?.schema).toMatch(/TelemetryEnriched/);
  });
});

describe('console: many clients at once', () => {
  it('serves 60 concurrent requests, searches and live streams, with clients going away mid-response', async () => {
    const field = encodeURIComponent(`after.user_id = ${userId}`);
    const jobs: Promise<unknown>[] = [];
    for (let i = 0; i < 20; i++) jobs.push(json<MessagePage>(api(`/topics/${EVENTS}/messages?limit=20`)));
    for (let i = 0; i < 10; i++) jobs.push(readSse(`/topics/${EVENTS}/search?field=${field}`));
    // Gone after the first event: the scan behind it must stop, not run on.
    for (let i = 0; i < 10; i++) jobs.push(readSse(`/topics/${EVENTS}/search?text=%22&scan=1000000`, 1));
    for (let i = 0; i < 10; i++) jobs.push(readSse('/overview/stream', 1));
    // Aborted before any byte of the answer.
    for (let i = 0; i < 10; i++) jobs.push(fetch(`${base}/api/groups`, { signal: AbortSignal.timeout(1) }).catch(() => 'aborted'));
    const results = await Promise.all(jobs);
    const searches = results.slice(20, 30) as Sse[];
    for (const s of searches) expect((s.events.at(-1)!.data as SearchProgress).matched).toBe(7);
    // Still healthy and answering afterwards.
    expect((await fetch(`${base}/health`)).status).toBe(200);
    const overview = await json<{ components: { name: string; ok: boolean }[] }>(api('/overview'));
    expect(overview.components.find((c) => c.name === 'kafka')?.ok).toBe(true);
  });
});
