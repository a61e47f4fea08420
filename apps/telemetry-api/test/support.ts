import { TcpProxy } from '../../../tests/support/tcp-proxy.js';
import { randomInt, randomUUID } from 'node:crypto';
import pg from 'pg';
import { pino, type Logger } from 'pino';
import { loadDotEnv, loadEndpoints } from '@cdc/config';
import { createTelemetryDb, type TelemetryDb } from '@cdc/db/telemetry';
import { startServer, type HttpMetrics, type ProblemBody, type RunningServer } from '@cdc/http';
import type { IncomingTelemetryEvent } from '@cdc/schemas';
import { createApp } from '../src/app.js';
import { DEFAULT_API_AUTH, sharedTestKey, withKey, type TestKey } from '../../../tests/support/api-keys.js';
import { freePort } from '../../../scripts/lib/net.js';
export { freePort };

loadDotEnv();
export const DATABASE_URL = loadEndpoints().TELEMETRY_DATABASE_URL;

/** An all-scopes key in the tests' databases: postJson and apiFetch send it unless told otherwise. */
export const KEY: TestKey = await sharedTestKey();

/** fetch with KEY's Authorization header, unless `init` sets its own. */
export const apiFetch = (url: string, init: RequestInit = {}): Promise<Response> => fetch(url, withKey(KEY, init));

/**
 * Other tests write to the same table at the same time: every event made here has a
 * fresh event_uuid and a user_id in a range drawn at random for this test file, and
 * clean-up deletes only that range.
 */
export const USER_BASE = randomInt(100_000_000, 800_000_000);
export const USER_SPAN = 100_000;

export type TestEvent = IncomingTelemetryEvent;

let seq = 0;
export function makeEvent(overrides: Partial<TestEvent> = {}): TestEvent & { event_uuid: string } {
  seq++;
  return {
    event_uuid: randomUUID(),
    user_id: USER_BASE + (seq % USER_SPAN),
    prosthesis_type: 'myoelectric_hand',
    muscle_group: 'forearm_flexors',
    signal_frequency: 1000 + (seq % 500),
    signal_duration: 250,
    signal_amplitude: 0.25 + seq / 1024,
    event_timestamp: `2026-11-25T12:00:00.${String(seq % 1_000_000).padStart(6, '0')}Z`,
    ...overrides,
  };
}

/** A direct connection for assertions: what is really in the table. */
export const admin = new pg.Pool({ connectionString: DATABASE_URL, max: 3 });

export async function countByUuids(uuids: readonly string[]): Promise<number> {
  const { rows } = await admin.query<{ n: string }>(
    'SELECT count(*) AS n FROM telemetry_events WHERE event_uuid = ANY($1::uuid[])',
    [uuids],
  );
  return Number(rows[0]!.n);
}

export type StoredRow = Required<IncomingTelemetryEvent>;

export async function storedRow(uuid: string): Promise<StoredRow | undefined> {
  const { rows } = await admin.query<StoredRow>(
    `SELECT event_uuid::text, user_id, prosthesis_type, muscle_group, signal_frequency, signal_duration,
            signal_amplitude, to_char(event_timestamp AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS event_timestamp
       FROM telemetry_events WHERE event_uuid = $1::uuid`,
    [uuid],
  );
  return rows[0];
}

export async function deleteTestRows(): Promise<void> {
  await admin.query('DELETE FROM telemetry_events WHERE user_id >= $1 AND user_id < $2', [USER_BASE, USER_BASE + USER_SPAN]);
}

export const silentLog = pino({ level: 'silent' });

export interface TestApi {
  url: string;
  db: TelemetryDb;
  metrics: HttpMetrics;
  server: RunningServer;
  close(): Promise<void>;
}

/** The real app on a real socket (ephemeral port), on its own pool. */
export async function startTestApi(opts: { databaseUrl?: string; log?: Logger } = {}): Promise<TestApi> {
  const log = opts.log ?? silentLog;
  const db = createTelemetryDb(opts.databaseUrl ?? DATABASE_URL);
  const { app, metrics } = createApp({ db, log, config: { auth: DEFAULT_API_AUTH } });
  const server = await startServer(app, { host: '127.0.0.1', port: 0, log, graceMs: 2000, onClose: () => db.close() });
  return { url: server.url, db, metrics, server, close: () => server.close() };
}

export function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return apiFetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/** A response body, loosely typed: the assertions that follow are the check. */
export async function readJson(res: Response): Promise<any> {
  return res.json();
}

/** The problem+json body the frame sends (packages/http). */
export type ProblemJson = ProblemBody;

/** Asserts the problem+json shape and returns the body. */
export async function readProblem(res: Response, status: number): Promise<ProblemJson> {
  const text = await res.text();
  if (res.status !== status) throw new Error(`expected ${status}, got ${res.status}: ${text}`);
  const type = res.headers.get('content-type') ?? '';
  if (!type.startsWith('application/problem+json')) throw new Error(`expected application/problem+json, got ${type}`);
  const body = JSON.parse(text) as ProblemJson;
  if (body.status !== status) throw new Error(`problem.status ${body.status} ≠ ${status}`);
  return body;
}

export function errorPaths(p: ProblemJson): string[] {
  return (p.errors ?? []).map((e) => e.path).sort();
}

/**
 * The shared test proxy (tests/support/tcp-proxy.ts) in front of the real database,
 * with a URL to hand to the app: stop refuses new connections and drops open ones,
 * as a stopped PostgreSQL does; start listens again on the same port.
 */
export interface DbProxy {
  port: number;
  url: string;
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(targetUrl: string): Promise<DbProxy> {
  const target = new URL(targetUrl);
  const proxy = new TcpProxy(target.hostname, Number(target.port));
  await proxy.start();
  const url = new URL(targetUrl);
  url.port = String(proxy.port);
  const stop = () => proxy.cut({ stop: true });
  return { port: proxy.port, url: url.toString(), stop, start: () => proxy.start(), close: stop };
}


export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
