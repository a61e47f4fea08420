import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { OpenAPIHono } from '@hono/zod-openapi';
import type { Tracer } from '@opentelemetry/api';
import type { Logger } from 'pino';
import { KeyStoreUnavailable } from './auth/authenticate.js';
import { installApiKeys, keyStoreUnavailable, type ApiKeysOptions } from './auth/install.js';
import { swaggerDocsRoutes } from './docs.js';
import { documentOperationalRoutes } from './operations-doc.js';
import { healthRoutes, type ReadinessCheck } from './health.js';
import { jsonBody } from './json-body.js';
import type { HttpMetrics } from './metrics.js';
import { issuesFromZod, problem, ProblemType, validationProblem } from './problem.js';
import { requestContext, type RequestVariables } from './request-context.js';
import { traceRequests } from './tracing.js';

export type ApiEnv = { Variables: RequestVariables };
export type ApiApp = OpenAPIHono<ApiEnv>;

export interface ApiAppOptions {
  service: string;
  title: string;
  version: string;
  description: string;
  log: Logger;
  metrics: HttpMetrics;
  readiness: ReadinessCheck[];
  maxBodyBytes: number;
  /** Turns a known failure (a database outage, a unique violation) into a problem response. */
  mapError?: (err: Error, c: Context<ApiEnv>) => Response | undefined;
  /** Set when tracing is on: a server span per request (see tracing.ts). */
  tracer?: Tracer;
  /** API keys: the policy, and where keys are read from (auth.api_keys of the service's database). */
  auth: ApiKeysOptions;
}

/**
 * The frame both APIs share, in request order: the server span (tracing on only),
 * request id + access log, metrics,
 * JSON body guards, then the routes; plus /health, /ready, /metrics, /openapi.json
 * (generated from the routes' zod schemas) and /docs (Swagger UI served from
 * swagger-ui-dist, see docs.ts: no request leaves the origin). Every error leaves as
 * application/problem+json.
 */
export function createApiApp(opts: ApiAppOptions): ApiApp {
  const app = new OpenAPIHono<ApiEnv>({
    // Schema validation failures list every issue at once (422); a param or query
    // issue is prefixed with where it was found.
    defaultHook: (result, c) => {
      if (!result.success) {
        const prefix = result.target === 'json' ? [] : [result.target];
        return validationProblem(c, issuesFromZod(result.error, prefix));
      }
    },
  });

  if (opts.tracer) app.use('*', traceRequests(opts.tracer));
  app.use('*', requestContext(opts.log));
  app.use('*', opts.metrics.middleware);
  installApiKeys(app, { ...opts.auth, service: opts.service, registry: opts.metrics.registry });
  app.use('*', ...jsonBody(opts.maxBodyBytes));

  app.route('/', healthRoutes(opts.service, opts.readiness));
  documentOperationalRoutes(app, { dependencies: opts.readiness.map((r) => r.name), opsNeedKey: opts.auth.config.opsEndpoints === 'key' });
  app.get('/metrics', async (c) =>
    c.body(await opts.metrics.registry.metrics(), 200, { 'content-type': opts.metrics.registry.contentType }),
  );
  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: { title: opts.title, version: opts.version, description: opts.description },
  });
  app.route('/', swaggerDocsRoutes({ title: opts.title, specUrl: '/openapi.json' }));

  app.notFound((c) =>
    problem(c, {
      type: ProblemType.notFound,
      title: 'Not found',
      status: 404,
      detail: `no route for ${c.req.method} ${c.req.path}`,
    }),
  );
  app.onError((err, c) => {
    // @hono/zod-openapi's validators throw HTTPExceptions (415 from the media-type
    // gate, 400 for unparsable JSON). The JSON guards answer those cases first; should
    // one slip through, a client's mistake must still not become a 500.
    if (err instanceof HTTPException && err.status < 500) {
      return problem(c, {
        type: err.status === 415 ? ProblemType.unsupportedMediaType : ProblemType.validation,
        title: err.message || 'Bad request',
        status: err.status,
        detail: err.message,
      });
    }
    if (err instanceof KeyStoreUnavailable) return keyStoreUnavailable(c, err, c.get('log') ?? opts.log);
    const mapped = opts.mapError?.(err, c);
    if (mapped) return mapped;
    (c.get('log') ?? opts.log).error({ err }, 'unhandled error');
    return problem(c, {
      type: ProblemType.internal,
      title: 'Internal error',
      status: 500,
      detail: 'the request failed unexpectedly; the request id identifies it in the logs',
    });
  });
  return app;
}
