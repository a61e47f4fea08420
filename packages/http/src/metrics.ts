import type { MiddlewareHandler } from 'hono';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * One registry per service, metric names shared by both APIs so one dashboard
 * serves both. Labels use the route pattern (/users/:id), never the raw path, so
 * the number of series stays bounded.
 */
export interface HttpMetrics {
  registry: Registry;
  middleware: MiddlewareHandler;
  /** Registers gauges that read a pool's state on every scrape. */
  observePool(name: string, read: () => { total: number; idle: number; waiting: number }): void;
}

export function createHttpMetrics(service: string): HttpMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });

  const requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests by method, route and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request latency by method, route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });

  const middleware: MiddlewareHandler = async (c, next) => {
    const end = duration.startTimer();
    try {
      await next();
    } finally {
      // routePath is '/*' for unmatched requests, which keeps 404 floods to one series.
      const labels = { method: c.req.method, route: c.req.routePath, status: String(c.res.status) };
      requests.inc(labels);
      end(labels);
    }
  };

  function observePool(name: string, read: () => { total: number; idle: number; waiting: number }) {
    for (const [state, pick] of [
      ['total', (s: ReturnType<typeof read>) => s.total],
      ['idle', (s: ReturnType<typeof read>) => s.idle],
      ['waiting', (s: ReturnType<typeof read>) => s.waiting],
    ] as const) {
      new Gauge({
        name: `db_pool_connections_${state}`,
        help: `Database pool connections (${state})`,
        labelNames: ['pool'] as const,
        registers: [registry],
        collect() {
          this.set({ pool: name }, pick(read()));
        },
      });
    }
  }

  return { registry, middleware, observePool };
}
