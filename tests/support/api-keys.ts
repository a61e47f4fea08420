import { ALL_SCOPES, type Scope } from '@cdc/auth';
import { apiAuthEnv, loadEndpoints, toApiAuthConfig, type ApiAuthConfig } from '@cdc/config';
import { closeKeyDatabases, issueKey, openKeyDatabases } from '../../scripts/keys/keyring.js';

/** The APIs' authentication as a process started with no API_* variables gets it. */
export const DEFAULT_API_AUTH: ApiAuthConfig = toApiAuthConfig(apiAuthEnv.parse({}), 'test', '127.0.0.1');

export interface TestKey {
  id: string;
  token: string;
  /** `{ authorization: 'Bearer …' }`, to spread into a request's headers. */
  headers: { authorization: string };
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

export interface TestKeyOptions {
  scopes?: Scope[];
  /** Default 0 (unlimited): the tests that are not about rate limits must not meet one. */
  ratePerSecond?: number | null;
  expiresAt?: Date | null;
  name?: string;
}

/**
 * A real key, issued the way `npm run keys` issues one (scripts/keys/keyring.ts) into
 * the tests' databases. It expires in two hours unless told otherwise, so a key left
 * behind by a test opens nothing for long.
 */
export async function createTestKey(opts: TestKeyOptions = {}): Promise<TestKey> {
  const dbs = openKeyDatabases(loadEndpoints());
  try {
    const { record, token } = await issueKey(dbs, {
      name: opts.name ?? 'test',
      scopes: opts.scopes ?? ALL_SCOPES,
      ratePerSecond: opts.ratePerSecond === undefined ? 0 : opts.ratePerSecond,
      expiresAt: opts.expiresAt === undefined ? new Date(Date.now() + 2 * 3_600_000) : opts.expiresAt,
    });
    return { id: record.id, token, headers: bearer(token) };
  } finally {
    await closeKeyDatabases(dbs);
  }
}

let shared: Promise<TestKey> | undefined;

/** One all-scopes key per test process, for tests that are about something else. */
export function sharedTestKey(): Promise<TestKey> {
  shared ??= createTestKey({ name: 'tests' });
  return shared;
}

/** `init` with the key's Authorization header, unless the caller set one. */
export function withKey(key: TestKey, init: RequestInit = {}): RequestInit {
  const headers = new Headers(init.headers);
  if (!headers.has('authorization')) headers.set('authorization', key.headers.authorization);
  return { ...init, headers };
}
