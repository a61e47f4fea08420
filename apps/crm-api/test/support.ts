import type { ProblemBody } from '@cdc/http';
import { randomBytes } from 'node:crypto';
import { loadDotEnv, loadEndpoints } from '@cdc/config';
import { createCrmDb, type CrmDb } from '@cdc/db/crm';
import { pino } from 'pino';
import { expect } from 'vitest';
import { createApp, type CrmApp } from '../src/app.js';
import { MAX_BODY_BYTES } from '../src/config.js';
import { DEFAULT_API_AUTH, sharedTestKey, withKey, type TestKey } from '../../../tests/support/api-keys.js';

loadDotEnv();
export const CRM_DATABASE_URL = loadEndpoints().CRM_DATABASE_URL;

/** An all-scopes key in the tests' databases; buildApp's requests carry it unless they set their own. */
export const KEY: TestKey = await sharedTestKey();

/** fetch with KEY's Authorization header, unless `init` sets its own. */
export const apiFetch = (url: string, init: RequestInit = {}): Promise<Response> => fetch(url, withKey(KEY, init));

/**
 * Unique per call: other suites write to the same table at the same time. Kept
 * short: an e-mail's local part is at most 64 characters.
 */
export function uniqueEmail(tag: string): string {
  return `crm+${tag}-${randomBytes(8).toString('hex')}@example.com`;
}

export interface TestApp extends CrmApp {
  db: CrmDb;
  /** Every log line the app wrote, parsed. */
  logLines: () => Record<string, unknown>[];
}

/**
 * createApp on a real database, logging into memory so tests can read the lines.
 * app.request sends KEY unless the request has an Authorization header of its own.
 */
export function buildApp(databaseUrl = CRM_DATABASE_URL): TestApp {
  const lines: string[] = [];
  const log = pino({ level: 'info' }, { write: (s: string) => void lines.push(s) });
  const db = createCrmDb(databaseUrl);
  const built = createApp({ db, log, config: { maxBodyBytes: MAX_BODY_BYTES, auth: DEFAULT_API_AUTH } });
  const request: typeof built.app.request = (input, init, ...rest) =>
    input instanceof Request
      ? built.app.request(new Request(input, withKey(KEY, { headers: input.headers })), init, ...rest)
      : built.app.request(input, withKey(KEY, init ?? {}), ...rest);
  const app = Object.assign(Object.create(built.app) as typeof built.app, { request });
  return { ...built, app, db, logLines: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

export function json(method: string, body: unknown, headers: Record<string, string> = {}): RequestInit {
  return {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  };
}

/** Rows with this e-mail, read straight from the table (not through the API under test). */
export async function countByEmail(db: CrmDb, email: string): Promise<number> {
  const r = await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM users WHERE email = $1', [email]);
  return r.rows[0]!.n;
}

/** Deletes only rows this suite created (by their unique e-mails). */
export async function deleteByEmails(db: CrmDb, emails: string[]): Promise<void> {
  if (emails.length > 0) await db.pool.query('DELETE FROM users WHERE email = ANY($1)', [emails]);
}

/** The problem+json body the frame sends (packages/http). */
export type ProblemJson = ProblemBody;

/** Asserts an RFC 9457 problem response with this status and returns its body. */
export async function expectProblem(res: Response, status: number): Promise<ProblemJson> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  expect(res.headers.get('content-type')).toBe('application/problem+json');
  const body = JSON.parse(text) as ProblemJson;
  expect(body.status).toBe(status);
  expect(body.type).toMatch(/^https:\/\/cdc-pipeline\.local\/problems\//);
  expect(body.request_id).toBe(res.headers.get('x-request-id'));
  return body;
}

export function errorPaths(p: ProblemJson): string[] {
  return (p.errors ?? []).map((e) => e.path).sort();
}
