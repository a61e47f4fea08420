import { z } from '@hono/zod-openapi';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { problemDocs } from './openapi.js';
import { requires } from './auth/route-scopes.js';

/**
 * health.ts and metrics.ts serve /health, /ready and /metrics as plain routes, which
 * /openapi.json would not mention; operators read the same document, so they are
 * described here (documentation only). /ready and /metrics name their scope when
 * they need a key: the key check reads it from here (auth/route-scopes.ts).
 */
export function documentOperationalRoutes(app: OpenAPIHono<any>, opts: { dependencies: string[]; opsNeedKey: boolean }): void {
  const registry = app.openAPIRegistry;
  const ops = opts.opsNeedKey ? requires('ops:read') : {};
  const refusals = opts.opsNeedKey
    ? problemDocs({ 401: 'No valid API key', 403: 'The key lacks ops:read', 429: 'The key is over its rate; retry after Retry-After' })
    : {};
  registry.registerPath({
    method: 'get',
    path: '/health',
    tags: ['operations'],
    summary: 'Liveness: the process answers (never touches a dependency). Open to anyone.',
    responses: {
      200: {
        description: 'Alive',
        content: { 'application/json': { schema: z.object({ status: z.literal('ok'), service: z.string() }) } },
      },
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/ready',
    tags: ['operations'],
    summary: `Readiness: ${opts.dependencies.join(', ')} answer within 2 s`,
    ...ops,
    responses: {
      200: {
        description: 'Ready',
        content: {
          'application/json': {
            schema: z.object({
              status: z.literal('ready'),
              service: z.string(),
              checks: z.array(z.object({ name: z.string(), ok: z.boolean() })),
            }),
          },
        },
      },
      ...refusals,
      ...problemDocs({ 503: 'A dependency does not answer; `checks` names it' }),
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/metrics',
    tags: ['operations'],
    summary: 'Prometheus metrics: cdc_http_requests_total, cdc_http_request_duration_seconds, cdc_http_auth_refused_total, cdc_db_pool_*',
    ...ops,
    responses: {
      200: { description: 'Prometheus text exposition format', content: { 'text/plain': { schema: z.string() } } },
      ...refusals,
    },
  });
}
