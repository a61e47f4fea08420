import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  admin,
  countByUuids,
  DATABASE_URL,
  deleteTestRows,
  freePort,
  makeEvent,
  postJson,
  readJson,
  readProblem,
  sleep,
  startTcpProxy,
  startTestApi,
  type TestApi,
  apiFetch,
} from './support.js';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

let api: TestApi;
// Everything the app logs, one parsed JSON object per line.
const logLines: Record<string, unknown>[] = [];

beforeAll(async () => {
  const log = pino({ level: 'info' }, { write: (line: string) => void logLines.push(JSON.parse(line)) });
  api = await startTestApi({ log });
});

afterAll(async () => {
  await api?.close();
  await deleteTestRows();
  await admin.end();
});

describe('request ids and logs', () => {
  it('echoes an acceptable X-Request-Id and puts it in problem bodies', async () => {
    const res = await apiFetch(`${api.url}/telemetry-events/00000000-0000-4000-8000-000000000000`, {
      headers: { 'x-request-id': 'test-req.42' },
    });
    expect(res.headers.get('x-request-id')).toBe('test-req.42');
    expect((await readProblem(res, 404)).request_id).toBe('test-req.42');
  });

  it('makes one up otherwise', async () => {
    const res = await apiFetch(`${api.url}/health`);
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('every log line of a request carries its request id', async () => {
    const a = makeEvent();
    await postJson(`${api.url}/telemetry-events/batch`, { events: [a] }, { 'x-request-id': 'log-check-1' });
    await postJson(`${api.url}/telemetry-events`, { ...a, signal_duration: 9 }, { 'x-request-id': 'log-check-2' });
    await sleep(50);
    const batchLines = logLines.filter((l) => l.request_id === 'log-check-1');
    expect(batchLines.map((l) => l.msg)).toEqual(['batch ingested', 'request']);
    expect(batchLines[0]).toMatchObject({ items: 1, inserted: 1 });
    const conflictLines = logLines.filter((l) => l.request_id === 'log-check-2');
    expect(conflictLines.map((l) => l.msg)).toEqual(['event_uuid reused with a different payload', 'request']);
    expect(conflictLines[1]).toMatchObject({ method: 'POST', route: '/telemetry-events', status: 409 });
  });
});

describe('operational endpoints', () => {
  it('/health is 200', async () => {
    const res = await apiFetch(`${api.url}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok', service: 'telemetry-api' });
  });

  it('/ready is 200 when the database answers', async () => {
    const res = await apiFetch(`${api.url}/ready`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ready', checks: [{ name: 'telemetry_db', ok: true }] });
  });

  it('/openapi.json documents every route, the schemas and the body limits', async () => {
    const res = await apiFetch(`${api.url}/openapi.json`);
    expect(res.status).toBe(200);
    const doc = await readJson(res);
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths).sort()).toEqual([
      '/health',
      '/metrics',
      '/ready',
      '/telemetry-events',
      '/telemetry-events/batch',
      '/telemetry-events/{event_uuid}',
    ]);
    expect(Object.keys(doc.paths['/telemetry-events'])).toEqual(['post']);
    expect(Object.keys(doc.paths['/telemetry-events/batch'])).toEqual(['post']);
    expect(Object.keys(doc.paths['/telemetry-events/{event_uuid}'])).toEqual(['get']);
    expect(Object.keys(doc.paths['/telemetry-events'].post.responses).sort()).toEqual(
      ['200', '201', '400', '401', '403', '409', '413', '415', '422', '429', '500', '503'],
    );
    expect(doc.paths['/telemetry-events'].post.responses['201'].headers.Location).toBeDefined();
    expect(doc.paths['/telemetry-events/{event_uuid}'].get.parameters[0]).toMatchObject({ name: 'event_uuid', in: 'path' });
    for (const name of ['IncomingTelemetryEvent', 'TelemetryEvent', 'Problem', 'TelemetryBatchRequest', 'TelemetryBatchResponse']) {
      expect(doc.components.schemas[name]).toBeDefined();
    }
    const events = doc.components.schemas.TelemetryBatchRequest.properties.events;
    expect(events).toMatchObject({ type: 'array', minItems: 1, maxItems: 10_000 });
    expect(JSON.stringify(events.items)).toContain('#/components/schemas/IncomingTelemetryEvent');
    expect(doc.info.description).toContain('64 KiB');
    expect(doc.info.description).toContain('8 MiB');
  });

  it('/docs serves Swagger UI', async () => {
    const res = await apiFetch(`${api.url}/docs`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await res.text();
    expect(html).toMatch(/swagger/i);
    expect(html).toContain('/openapi.json');
  });

  it('/metrics has HTTP metrics, pool gauges and the ingest counter', async () => {
    await postJson(`${api.url}/telemetry-events`, makeEvent());
    const res = await apiFetch(`${api.url}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toMatch(/^cdc_http_requests_total\{method="POST",route="\/telemetry-events",status="201",service="telemetry-api"\} \d+/m);
    expect(text).toMatch(/^cdc_http_request_duration_seconds_bucket\{.*route="\/telemetry-events".*\} \d+/m);
    for (const gauge of ['cdc_db_pool_connections_open', 'cdc_db_pool_connections_idle', 'cdc_db_pool_clients_waiting']) {
      expect(text).toMatch(new RegExp(`^${gauge}\\{pool="telemetry",service="telemetry-api"\\} \\d+`, 'm'));
    }
    for (const result of ['inserted', 'duplicate', 'conflict', 'invalid']) {
      expect(text).toMatch(new RegExp(`^cdc_telemetry_events_ingested_total\\{result="${result}",service="telemetry-api"\\} \\d+`, 'm'));
    }
  });

  it('unknown routes → 404 problem', async () => {
    await readProblem(await apiFetch(`${api.url}/nope`), 404);
  });
});

describe('database outage', () => {
  it('answers 503 quickly while the database is unreachable and recovers without a restart', async () => {
    const proxy = await startTcpProxy(DATABASE_URL);
    const outage = await startTestApi({ databaseUrl: proxy.url });
    try {
      const before = makeEvent();
      expect((await postJson(`${outage.url}/telemetry-events`, before)).status).toBe(201);
      expect((await apiFetch(`${outage.url}/ready`)).status).toBe(200);

      await proxy.stop();

      const during = makeEvent();
      const requests = {
        single: () => postJson(`${outage.url}/telemetry-events`, during),
        batch: () => postJson(`${outage.url}/telemetry-events/batch`, { events: [during] }),
        get: () => apiFetch(`${outage.url}/telemetry-events/${before.event_uuid}`),
        ready: () => apiFetch(`${outage.url}/ready`),
      };
      for (const [name, send] of Object.entries(requests)) {
        const t0 = performance.now();
        const res = await send();
        const ms = performance.now() - t0;
        const problem = await readProblem(res, 503);
        expect(ms, `${name} took ${ms} ms`).toBeLessThan(3000);
        expect(problem.type).toMatch(/dependency-unavailable$/);
        if (name !== 'ready') expect(res.headers.get('retry-after')).toBe('5');
      }
      // Alive all the same: an outage must not get the process restarted.
      expect((await apiFetch(`${outage.url}/health`)).status).toBe(200);

      await proxy.start();

      // The same process, the same pool: it reconnects on the next request.
      let status = 0;
      for (const deadline = Date.now() + 15_000; Date.now() < deadline; await sleep(250)) {
        status = (await postJson(`${outage.url}/telemetry-events`, during)).status;
        if (status !== 503) break;
      }
      expect(status).toBe(201);
      expect((await apiFetch(`${outage.url}/ready`)).status).toBe(200);
      expect((await apiFetch(`${outage.url}/telemetry-events/${before.event_uuid}`)).status).toBe(200);
      expect(await countByUuids([before.event_uuid, during.event_uuid])).toBe(2);
    } finally {
      await outage.close();
      await proxy.close();
    }
  });
});

describe('the process', () => {
  it('starts from main.ts, serves, and on SIGTERM finishes in-flight requests and exits 0', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, ['--import', 'tsx', 'apps/telemetry-api/src/main.ts'], {
      cwd: REPO_ROOT,
      env: { ...process.env, HOST: '127.0.0.1', TELEMETRY_API_PORT: String(port), LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const exited = once(child, 'exit');
    try {
      const url = `http://127.0.0.1:${port}`;
      for (const deadline = Date.now() + 30_000; ; await sleep(100)) {
        try {
          if ((await apiFetch(`${url}/health`)).ok) break;
        } catch {
          // not listening yet
        }
        if (Date.now() > deadline) throw new Error(`did not start:\n${output}`);
      }
      expect((await apiFetch(`${url}/ready`)).status).toBe(200);

      // A large batch in flight when the signal arrives still gets its answer.
      const events = Array.from({ length: 10_000 }, () => makeEvent());
      const inFlight = postJson(`${url}/telemetry-events/batch`, { events });
      await sleep(100);
      child.kill('SIGTERM');
      const res = await inFlight;
      expect(res.status).toBe(200);
      expect(((await res.json()) as { summary: { inserted: number } }).summary.inserted).toBe(10_000);

      const [code] = await exited;
      expect(code).toBe(0);
      expect(output).toContain('"msg":"stopped"');
      expect(await countByUuids(events.map((e) => e.event_uuid))).toBe(10_000);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
