import { z } from '@hono/zod-openapi';
import type { ApiApp } from '@cdc/http';
import { problemResponses } from '../problems.js';

/**
 * packages/http serves /health, /ready and /metrics as plain routes, which
 * /openapi.json would not mention; operators read the same document, so they are
 * described here (documentation only, the handlers stay where they are).
 */
export function documentOperationalRoutes(app: ApiApp): void {
  const registry = app.openAPIRegistry;
  registry.registerPath({
    method: 'get',
    path: '/health',
    tags: ['operations'],
    summary: 'Liveness: the process answers (never touches the database)',
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
    summary: 'Readiness: the database answers SELECT 1 within 2 s',
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
      503: { ...problemResponses[503], description: 'The database does not answer; `checks` names it' },
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/metrics',
    tags: ['operations'],
    summary: 'Prometheus metrics: cdc_http_requests_total, cdc_http_request_duration_seconds, cdc_db_pool_*',
    responses: { 200: { description: 'Prometheus text exposition format', content: { 'text/plain': { schema: z.string() } } } },
  });
}
