import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { type ClickHouseError, Codes, chError } from './errors.js';

export interface Credentials {
  user: string | undefined;
  password: string | undefined;
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** The three places a ClickHouse HTTP client may put credentials, in this order. */
export function credentialsOf(headers: IncomingHttpHeaders, params: URLSearchParams): Credentials {
  const authorization = header(headers, 'authorization');
  if (authorization && /^basic /i.test(authorization)) {
    const decoded = Buffer.from(authorization.slice(6).trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon === -1
      ? { user: decoded, password: '' }
      : { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  const user = header(headers, 'x-clickhouse-user');
  const key = header(headers, 'x-clickhouse-key');
  if (user !== undefined || key !== undefined) return { user, password: key };
  return { user: params.get('user') ?? undefined, password: params.get('password') ?? undefined };
}

// Hashing first gives equal-length inputs, so the comparison time says nothing
// about the password's length either.
function same(a: string, b: string): boolean {
  const h = (s: string): Buffer => createHash('sha256').update(s).digest();
  return timingSafeEqual(h(a), h(b));
}

/**
 * With no password configured every request is let in, like a fresh server's
 * passwordless `default` user; otherwise user and password must both match.
 */
export function authenticate(
  expected: { user: string; password: string },
  given: Credentials,
): ClickHouseError | undefined {
  if (expected.password === '') return undefined;
  const user = given.user || 'default';
  if (user === expected.user && same(given.password ?? '', expected.password)) return undefined;
  return chError(
    Codes.AUTHENTICATION_FAILED,
    `${user}: Authentication failed: password is incorrect, or there is no user with such name`,
  );
}
