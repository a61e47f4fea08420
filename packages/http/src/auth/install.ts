import type { ApiAuthConfig } from '@cdc/config';
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { problem, ProblemType, RETRY_AFTER_SECONDS } from '../problem.js';
import { authenticate, KeyStoreUnavailable } from './authenticate.js';
import { cachedKeys, type KeySource } from './key-lookup.js';
import { keyRateLimits } from './rate-limit.js';
import { routeScopes, SECURITY_SCHEME } from './route-scopes.js';

export interface ApiKeysOptions {
  config: ApiAuthConfig;
  /** Where keys are read from (auth.api_keys of a service's database). */
  keys: KeySource;
  /** That database's name, for the 503 while it cannot be read. */
  store: string;
}

/** Paths anyone may GET: liveness and the documentation (docs.ts serves its assets under /docs/). */
const OPEN_PATHS = /^\/(health|openapi\.json|docs(\/[^/]*)?)$/;
const OPS_PATHS = /^\/(ready|metrics)$/;

/**
 * Puts an app behind API keys: the bearer scheme in /openapi.json, and the key check
 * (authenticate.ts) on every request but the open paths, with the scopes the routes
 * document. Register it before anything that reads a body.
 */
export function installApiKeys(app: OpenAPIHono<any>, opts: ApiKeysOptions & { service: string; registry: Registry }): void {
  const opsOpen = opts.config.opsEndpoints === 'open';
  app.openAPIRegistry.registerComponent('securitySchemes', SECURITY_SCHEME, {
    type: 'http',
    scheme: 'bearer',
    description:
      'An API key from `npm run keys -- create`, sent as `Authorization: Bearer cdc_…`. Each route names the scope it needs; ' +
      'a missing or invalid key gets 401, a key without the scope 403, a key over its rate 429 with Retry-After.',
  });
  app.use(
    '*',
    authenticate({
      realm: opts.service,
      store: opts.store,
      mode: opts.config.mode,
      keys: cachedKeys(opts.keys, opts.config.keyCacheMs),
      routes: routeScopes(app),
      limits: keyRateLimits(),
      defaultRatePerSecond: opts.config.defaultRatePerSecond,
      isOpen: (method, path) =>
        (method === 'GET' || method === 'HEAD') && (OPEN_PATHS.test(path) || (opsOpen && OPS_PATHS.test(path))),
      registry: opts.registry,
    }),
  );
}

/** The answer for a KeyStoreUnavailable thrown by the key check: 503 with Retry-After. */
export function keyStoreUnavailable(c: Context, err: KeyStoreUnavailable, log: Logger): Response {
  log.warn({ err: err.message }, 'key store unavailable');
  c.header('Retry-After', String(RETRY_AFTER_SECONDS));
  return problem(c, {
    type: ProblemType.unavailable,
    title: 'Key store unavailable',
    status: 503,
    detail: `the API key cannot be checked while ${err.store} is unavailable; retry later`,
  });
}
