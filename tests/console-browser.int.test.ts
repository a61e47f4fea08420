import { randomInt, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadStackConfig } from '../scripts/stack/config.js';
import { consoleTokenFile } from '../scripts/stack/console.js';
import { up } from '../scripts/stack/stack.js';
import { startBrowser, type BrowserSession, type Watched } from './support/browser.js';
import { clickhouse, env, until } from './support/cdc.js';
import { createTestKey } from './support/api-keys.js';
import { postEvents, withTopic } from './support/console-data.js';

/**
 * The console in a real browser (Debian's Chromium, playwright-core) against the
 * tests' stack: every page loads with no console error, no failed request and nothing
 * fetched from beyond loopback; the scenarios a user runs end to end; a screenshot of
 * each page into docs/screenshots/ (the README shows them). The APIs' /docs pages
 * render offline too.
 */
const ROOT = path.resolve(import.meta.dirname, '..');
const SHOTS = path.join(ROOT, 'docs', 'screenshots');
const base = `http://127.0.0.1:${env.CONSOLE_PORT}`;
const EVENTS = 'telemetry.public.telemetry_events';
const stack = loadStackConfig();
const ch = clickhouse();
const userId = 1_700_000_000 + randomInt(100_000_000);
const uuids: string[] = [];
let browser: BrowserSession;

/** The part of a canvas element the chart check reads (the tests compile without the DOM library). */
interface Canvas {
  width: number;
  height: number;
  getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> } } | null;
}

async function visit(w: Watched, route: string): Promise<void> {
  await w.page.goto(`${base}${route}`);
  await w.page.locator('[data-testid="page"][data-loaded="true"]').waitFor({ timeout: 30_000 });
}

async function shot(w: Watched, name: string): Promise<void> {
  await w.page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
}

beforeAll(async () => {
  await up(stack, ['apps']);
  uuids.push(...(await postEvents(userId, 12, 5)));
  await until(
    'the events in ClickHouse and the analytics table',
    async () => {
      const rs = await ch.query({
        query: `SELECT (SELECT count() FROM default.telemetry_events WHERE user_id = {u:Int32}) AS a,
                       (SELECT count() FROM analytics.telemetry_enriched WHERE user_id = {u:Int32}) AS b`,
        query_params: { u: userId },
        format: 'JSONEachRow',
      });
      const [row] = await rs.json<{ a: string; b: string }>();
      return (Number(row!.a) === 5 && Number(row!.b) === 5) || undefined;
    },
    180_000,
    500,
  );
  browser = await startBrowser();
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await ch.close();
});

describe('console in the browser', () => {
  const pages: [string, string, string][] = [
    ['overview', '/', 'pipeline-diagram'],
    ['topics', '/kafka', 'topics-table'],
    ['topic', `/kafka/topics/${EVENTS}`, 'messages-table'],
    ['groups', '/kafka/groups', 'groups-table'],
    ['group', '/kafka/groups/clickhouse-telemetry-events', 'lag-chart'],
    ['connectors', '/connectors', 'slots-table'],
    ['sql', '/sql', 'sql-editor'],
    ['trace-form', '/trace', 'trace-input'],
    ['schemas', '/schemas', 'subjects-list'],
  ];
  for (const [name, route, testId] of pages) {
    it(`${name} (${route}) loads with no error and no request beyond loopback`, async () => {
      const w = await browser.open();
      try {
        await visit(w, route);
        await w.page.getByTestId(testId).first().waitFor({ state: 'visible', timeout: 10_000 });
        expect(await w.page.title()).toMatch(/· CDC console$/);
        if (name === 'overview') {
          // Live: the health list fills from the stream, every component up.
          await w.page.getByTestId('component-health').getByText('clickhouse').waitFor();
        }
        await shot(w, name);
        expect(w.problems).toEqual([]);
      } finally {
        await w.page.close();
      }
    });
  }

  it('finds a user’s events by a field filter, opens one and shows its PostgreSQL and ClickHouse rows', async () => {
    const w = await browser.open();
    await visit(w, `/kafka/topics/${EVENTS}`);
    await w.page.getByTestId('filter-field').fill(`after.user_id = ${userId}`);
    await w.page.getByTestId('filter-apply').click();
    await w.page.getByTestId('search-progress').getByText(/done/).waitFor({ timeout: 60_000 });
    await expect(w.page.getByTestId('search-progress').innerText()).resolves.toMatch(/matched 5\b/);
    const rows = w.page.getByTestId('message-row');
    expect(await rows.count()).toBe(5);
    // The filter is in the URL: the link can be shared.
    expect(new URL(w.page.url()).searchParams.get('field')).toBe(`after.user_id = ${userId}`);
    await shot(w, 'topic-search');
    await rows.first().click();
    await w.page.locator('[data-testid="page"][data-loaded="true"]').waitFor();
    const detail = await w.page.getByTestId('message-detail').innerText();
    const uuid = uuids.find((u) => detail.includes(u));
    expect(uuid, 'the opened message is one of the user’s events').toBeDefined();
    await expect(w.page.getByTestId('change-diff').innerText()).resolves.toContain('user_id');
    await expect(w.page.getByTestId('rows-postgres').innerText()).resolves.toContain(uuid!);
    await expect(w.page.getByTestId('rows-clickhouse').innerText()).resolves.toContain(uuid!);
    await shot(w, 'message');
    expect(w.problems).toEqual([]);
    await w.page.close();
  });

  it('pauses and resumes a connector, each after a confirmation, and shows the state change', async () => {
    const w = await browser.open();
    await visit(w, '/connectors');
    await w.page.getByTestId('token-input').fill(readFileSync(consoleTokenFile(stack), 'utf8').trim());
    const card = w.page.getByTestId('connector-crm-connector');
    const state = card.getByTestId('connector-state').first();
    await expect(state.innerText()).resolves.toBe('RUNNING');
    try {
      await card.getByTestId('action-pause').click();
      await w.page.getByTestId('confirm').click();
      await until('PAUSED on the page', async () => (await state.innerText()) === 'PAUSED' || undefined, 30_000, 250);
      await shot(w, 'connectors-paused');
    } finally {
      await card.getByTestId('action-resume').click();
      await w.page.getByTestId('confirm').click();
    }
    await until('RUNNING on the page', async () => (await state.innerText()) === 'RUNNING' || undefined, 30_000, 250);
    expect(w.problems).toEqual([]);
    await w.page.close();
  });

  it('runs a cookbook query and draws its chart', async () => {
    const w = await browser.open();
    await visit(w, '/sql');
    await w.page.getByTestId('cookbook-select').selectOption('05_events_per_prosthesis_type_per_hour');
    await w.page.getByTestId('sql-run').click();
    const result = w.page.getByTestId('sql-result');
    await result.getByText('prosthesis_type').first().waitFor({ timeout: 60_000 });
    await expect(result.innerText()).resolves.toContain('myoelectric_hand');
    // The chart is a canvas with something drawn on it.
    const painted = await w.page.getByTestId('sql-chart').locator('canvas').evaluate((c: Canvas) => {
      const data = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 3; i < data.length; i += 4) if (data[i]! > 0) n++;
      return n;
    });
    expect(painted).toBeGreaterThan(1000);
    await shot(w, 'sql');
    expect(w.problems).toEqual([]);
    await w.page.close();
  });

  it('completes tables and columns of the schema in the SQL editor', async () => {
    const w = await browser.open();
    await visit(w, '/sql');
    const editor = w.page.getByTestId('sql-editor').locator('.cm-content');
    await editor.click();
    await w.page.keyboard.press('Control+A');
    await w.page.keyboard.press('Delete');
    await w.page.keyboard.type('SELECT * FROM analytics.telemetry_en', { delay: 20 });
    const popup = w.page.locator('.cm-tooltip-autocomplete');
    await popup.getByText('telemetry_enriched', { exact: true }).first().waitFor({ timeout: 10_000 });
    await w.page.keyboard.press('Escape');
    // Columns after their table (analytics is the editor's default database).
    await w.page.keyboard.press('Control+A');
    await w.page.keyboard.press('Delete');
    await w.page.keyboard.type('SELECT telemetry_enriched.user_kn', { delay: 20 });
    await popup.getByText('user_known', { exact: true }).first().waitFor({ timeout: 10_000 });
    expect(w.problems).toEqual([]);
    await w.page.close();
  });

  it('opens a trace from its deep link, with the event in every store, and follows it to the Kafka message', async () => {
    const w = await browser.open();
    await visit(w, `/trace/${uuids[0]}`);
    const timeline = await w.page.getByTestId('trace-timeline').innerText();
    for (const hop of ['API accepted', 'PostgreSQL commit', 'Kafka', 'ClickHouse row', 'analytics row']) expect(timeline).toContain(hop);
    await expect(w.page.getByTestId('trace-postgres').innerText()).resolves.toContain(uuids[0]!);
    await expect(w.page.getByTestId('trace-kafka').innerText()).resolves.toContain(uuids[0]!);
    await expect(w.page.getByTestId('trace-clickhouse').innerText()).resolves.toContain(uuids[0]!);
    await shot(w, 'trace');
    await w.page.getByTestId('trace-timeline').locator(`a[href^="/kafka/topics/${EVENTS}/messages/"]`).first().click();
    await w.page.getByTestId('message-detail').waitFor();
    await expect(w.page.getByTestId('message-detail').innerText()).resolves.toContain(uuids[0]!);
    expect(w.problems).toEqual([]);
    await w.page.close();
  });

  it('shows a dead letter’s error and source, linked to the source message', async () => {
    const headers = { 'dlq.error': 'not JSON: Unexpected end of JSON input', 'dlq.source.topic': EVENTS, 'dlq.source.partition': '0', 'dlq.source.offset': '3' };
    await withTopic('console-browser', [{ key: '{"id":7}', value: '{"op":"c","after":', headers }], async (topic) => {
      const w = await browser.open();
      await visit(w, `/kafka/topics/${encodeURIComponent(topic)}/messages/0/0`);
      const dlq = await w.page.getByTestId('dlq-info').innerText();
      expect(dlq).toContain('not JSON: Unexpected end of JSON input');
      expect(dlq).toContain(EVENTS);
      await shot(w, 'message-dlq');
      expect(w.problems).toEqual([]);
      await w.page.close();
    });
  });

  for (const [name, port] of [
    ['CRM API', env.CRM_API_PORT],
    ['Telemetry API', env.TELEMETRY_API_PORT],
    ['stream processor', env.STREAM_PROCESSOR_PORT],
  ] as const) {
    it(`the ${name}'s /docs renders with no network beyond loopback`, async () => {
      const w = await browser.open();
      await w.page.goto(`http://127.0.0.1:${port}/docs`);
      await w.page.locator('.swagger-ui .info .title').waitFor({ timeout: 30_000 });
      expect(await w.page.locator('.opblock').count()).toBeGreaterThan(0);
      expect(w.problems).toEqual([]);
      await w.page.close();
    });
  }

  it("the CRM API's /docs takes a key under Authorize and Try it out answers with it", async () => {
    const key = await createTestKey({ name: 'docs try-out', scopes: ['users:read'] });
    const w = await browser.open();
    await w.page.goto(`http://127.0.0.1:${env.CRM_API_PORT}/docs`);
    const list = w.page.locator('#operations-users-get_users');
    const status = list.locator('.live-responses-table .response .response-col_status').first();
    await list.locator('.opblock-summary').click();
    await list.locator('.try-out__btn').click();
    // Without a key the answer is 401; the page shows it instead of failing silently.
    await list.locator('.execute').click();
    await expect.poll(() => status.innerText(), { timeout: 15_000 }).toBe('401');
    await w.page.locator('.auth-wrapper .authorize').click();
    await w.page.locator('.modal-ux input').fill(key.token);
    await w.page.locator('.modal-ux .auth-btn-wrapper .authorize').click();
    await w.page.locator('.modal-ux .btn-done').click();
    await list.locator('.execute').click();
    await expect.poll(() => status.innerText(), { timeout: 15_000 }).toBe('200');
    // 401 answers are the page's own test, not a problem of the page.
    expect(w.problems.filter((p) => !p.includes('401'))).toEqual([]);
    await w.page.close();
  });
});
