import type { ClickHouseClient } from '@clickhouse/client';
import { installApiKeys, KeyStoreUnavailable, keyStoreUnavailable, requires, swaggerDocsRoutes, type ApiKeysOptions } from '@cdc/http';
import { OpenAPIHono, z } from '@hono/zod-openapi';
import type { BlankEnv } from 'hono/types';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { documentQueryRoute, registerQueryRoute } from './query-route.js';

export const TITLE = 'Stream processor';
export const VERSION = '0.1.0';

/** What /ready reports, with its 503, while the processor cannot do its work. */
export interface NotReady {
  /** The ClickHouse circuit breaker's state (resilience.ts). */
  circuit: 'closed' | 'open' | 'half-open';
  /** The Kafka consumers have started. */
  started: boolean;
  /** The lag monitor reached Kafka within its last three polls. */
  kafka: boolean;
}

export interface ProcessorHttpDeps {
  /** The processor's Prometheus registry, served on /metrics. */
  registry: Registry;
  /** The client /query runs its queries with: the read-only analyst. */
  analyst: ClickHouseClient;
  /** Undefined when ready; otherwise what /ready answers 503 with. */
  notReady: () => NotReady | undefined;
  /** API keys: /query needs analytics:read; /ready and /metrics follow API_OPS_ENDPOINTS. */
  auth: ApiKeysOptions;
  log: Logger;
}

/**
 * The processor's HTTP surface, built from injected dependencies so tests serve it
 * in-process: /health, /ready, /metrics, /query (query-route.ts), and /openapi.json
 * describing them with /docs (Swagger UI from @cdc/http, nothing loaded from elsewhere).
 * Plain routes: the OpenAPI paths are registered beside them and change no behaviour.
 */
export function createProcessorHttpApp(deps: ProcessorHttpDeps): OpenAPIHono<BlankEnv> {
  // BlankEnv: the Hono that registerQueryRoute takes.
  const app = new OpenAPIHono<BlankEnv>();
  installApiKeys(app, { ...deps.auth, service: 'stream-processor', registry: deps.registry });
  app.onError((err, c) => {
    if (err instanceof KeyStoreUnavailable) return keyStoreUnavailable(c, err, deps.log);
    deps.log.error({ err }, 'unhandled error');
    return c.text('Internal Server Error', 500);
  });
  app.get('/health', (c) => c.json({ status: 'ok', service: 'stream-processor' }));
  app.get('/ready', (c) => {
    const notReady = deps.notReady();
    return notReady ? c.json({ status: 'not ready', ...notReady }, 503) : c.json({ status: 'ready' });
  });
  app.get('/metrics', async (c) => c.text(await deps.registry.metrics(), 200, { 'content-type': deps.registry.contentType }));
  registerQueryRoute(app, deps.analyst);

  documentOperationalRoutes(app, deps.auth.config.opsEndpoints === 'key');
  documentQueryRoute(app);
  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: TITLE,
      version: VERSION,
      description:
        'Consumes the Debezium change topics, enriches telemetry events with their user and writes them to ClickHouse. ' +
        'Over HTTP: liveness, readiness, Prometheus metrics, and read-only SQL over the analytics (/query).',
    },
  });
  app.route('/', swaggerDocsRoutes({ title: TITLE, specUrl: '/openapi.json' }));
  return app;
}

function documentOperationalRoutes(app: Pick<OpenAPIHono, 'openAPIRegistry'>, needKey: boolean): void {
  const registry = app.openAPIRegistry;
  const ops = needKey ? requires('ops:read') : {};
  registry.registerPath({
    method: 'get',
    path: '/health',
    tags: ['operations'],
    summary: 'Liveness: the process answers (touches neither Kafka nor ClickHouse)',
    responses: {
      200: {
        description: 'Alive',
        content: { 'application/json': { schema: z.object({ status: z.literal('ok'), service: z.literal('stream-processor') }) } },
      },
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/ready',
    tags: ['operations'],
    summary: 'Readiness: the consumers run (users caught up, no consumer stopped for good), the ClickHouse circuit is not open, and Kafka answers',
    ...ops,
    responses: {
      200: { description: 'Ready', content: { 'application/json': { schema: z.object({ status: z.literal('ready') }) } } },
      503: {
        description: 'Not ready; the fields say why',
        content: {
          'application/json': {
            schema: z.object({
              status: z.literal('not ready'),
              circuit: z.enum(['closed', 'open', 'half-open']).openapi({ description: "The ClickHouse circuit breaker's state" }),
              started: z.boolean().openapi({ description: 'The Kafka consumers have started' }),
              kafka: z.boolean().openapi({ description: 'Kafka answered the lag monitor recently' }),
            }),
          },
        },
      },
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/metrics',
    tags: ['operations'],
    summary: 'Prometheus metrics: consumer lag, batches, writes, freshness, the circuit breaker, Node.js defaults',
    ...ops,
    responses: { 200: { description: 'Prometheus text exposition format', content: { 'text/plain': { schema: z.string() } } } },
  });
}
