import { parseKey, secretMatches } from '@cdc/auth';
import type { Context, MiddlewareHandler } from 'hono';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import { problem, ProblemType } from '../problem.js';
import type { KeySource } from './key-lookup.js';
import type { KeyRateLimits } from './rate-limit.js';
import type { RouteScopes } from './route-scopes.js';

/** Who made the request, for the audit log and the access log. */
export interface ApiCaller {
  keyId: string;
  keyName: string;
  scopes: readonly string[];
}

/** The caller when API_AUTH=off: audit entries still say who (nobody in particular). */
export const AUTH_OFF_CALLER: ApiCaller = Object.freeze({ keyId: 'auth-off', keyName: 'auth-off', scopes: [] });

/** The key and request a write is done for, for its audit entry. */
export const writeBy = (c: Context): { keyId: string; requestId: string | null } => ({
  keyId: (c.get('caller' as never) as ApiCaller).keyId,
  requestId: (c.get('requestId' as never) as string | undefined) ?? null,
});

/**
 * The key store could not be read. Thrown, not answered, so the request's span and
 * log carry the cause; the app's error handler answers 503 naming the store.
 */
export class KeyStoreUnavailable extends Error {
  override name = 'KeyStoreUnavailable';
  constructor(readonly store: string, cause: unknown) {
    super(`the API key cannot be checked while ${store} is unavailable: ${(cause as Error)?.message ?? String(cause)}`, { cause });
  }
}

export interface AuthenticateOptions {
  realm: string;
  /** Where keys live, for the 503 when it cannot be read (crm_db, telemetry_db). */
  store: string;
  mode: 'required' | 'off';
  keys: KeySource;
  routes: RouteScopes;
  limits: KeyRateLimits;
  defaultRatePerSecond: number;
  /** Paths anyone may GET (or HEAD): /health, the docs. */
  isOpen: (method: string, path: string) => boolean;
  registry: Registry;
}

type Refusal = 'missing' | 'malformed' | 'invalid' | 'revoked' | 'expired' | 'scope' | 'rate';

/**
 * Authentication, then authorization, before any body is read: a caller without a
 * valid key gets 401, one whose key lacks the route's scope 403, one over its rate
 * 429 with Retry-After. Every refusal is problem+json and counted by reason. A key
 * store that cannot be read throws: the app's error mapping answers 503, never 401,
 * so an outage is not mistaken for a bad key.
 */
export function authenticate(opts: AuthenticateOptions): MiddlewareHandler {
  const refused = new Counter({
    name: 'cdc_http_auth_refused_total',
    help: 'Requests refused by the API key check, by reason',
    labelNames: ['reason'] as const,
    registers: [opts.registry],
  });

  const refuse = (c: Context, reason: Refusal, status: 401 | 403 | 429, detail: string) => {
    refused.inc({ reason });
    if (status === 401) {
      // RFC 6750 §3: say which scheme, and whether the token given was the problem.
      const error = reason === 'missing' ? '' : ', error="invalid_token"';
      c.header('WWW-Authenticate', `Bearer realm="${opts.realm}"${error}`);
    }
    const title = { 401: 'Unauthorized', 403: 'Forbidden', 429: 'Too many requests' }[status];
    const type = { 401: ProblemType.unauthorized, 403: ProblemType.forbidden, 429: ProblemType.rateLimited }[status];
    return problem(c, { type, title, status, detail, reason });
  };

  return async (c, next) => {
    const method = c.req.method;
    const path = c.req.path;
    if (opts.isOpen(method, path)) return next();
    if (opts.mode === 'off') {
      c.set('caller', AUTH_OFF_CALLER);
      return next();
    }

    const header = c.req.header('authorization');
    if (header === undefined) return refuse(c, 'missing', 401, 'this endpoint needs an API key: send Authorization: Bearer <key>');
    const token = /^Bearer ([^\s]+)$/i.exec(header)?.[1];
    const given = token === undefined ? undefined : parseKey(token);
    if (!given) return refuse(c, 'malformed', 401, 'the Authorization header is not "Bearer <key>" with a key issued by npm run keys');

    const key = await opts.keys.find(given.id).catch((err: unknown) => {
      throw new KeyStoreUnavailable(opts.store, err);
    });
    // An unknown id and a wrong secret get the same answer: nothing tells a guesser which ids exist.
    if (!key || !secretMatches(given.secret, key.secretSha256)) return refuse(c, 'invalid', 401, 'the API key is not valid');
    const now = Date.now();
    if (key.revokedAt && key.revokedAt.getTime() <= now) {
      return refuse(c, 'revoked', 401, `the API key ${key.id} was revoked at ${key.revokedAt.toISOString()}`);
    }
    if (key.expiresAt && key.expiresAt.getTime() <= now) {
      return refuse(c, 'expired', 401, `the API key ${key.id} expired at ${key.expiresAt.toISOString()}`);
    }

    const scope = opts.routes.scopeOf(method, path);
    if (scope !== undefined && !key.scopes.includes(scope)) {
      return refuse(c, 'scope', 403, `the API key ${key.id} lacks the scope ${scope} (it has ${key.scopes.join(', ')})`);
    }

    const wait = await opts.limits.take(key.id, key.ratePerSecond ?? opts.defaultRatePerSecond);
    if (wait !== undefined) {
      c.header('Retry-After', String(wait));
      return refuse(c, 'rate', 429, `the API key ${key.id} is over its limit of ${key.ratePerSecond ?? opts.defaultRatePerSecond} requests per second`);
    }

    c.set('caller', { keyId: key.id, keyName: key.name, scopes: key.scopes });
    // Apps with the request-context middleware get key_id on every later log line.
    const log = c.get('log') as Logger | undefined;
    if (log) c.set('log', log.child({ key_id: key.id }));
    return next();
  };
}
