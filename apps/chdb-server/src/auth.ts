import type { IncomingHttpHeaders } from 'node:http';
import type { Credentials } from './users.js';

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

