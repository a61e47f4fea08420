import type { MiddlewareHandler } from 'hono';
import { routeOf } from './request-context.js';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * One registry per service, metric names shared by both APIs so one dashboard
 * serves both. Labels use the route pattern (/users/:id), never the raw path, so
 * the number of series stays bounded.
 */
export interface PoolState {
  total: number;
  idle: number;
  waiting: number;
}

export interface HttpMetrics {
  registry: Registry;
  middleware: MiddlewareHandler;
  /** Registers gauges that read a pool's state on every scrape. */
  observePool(name: string, read: () => PoolState): void;
}

export function createHttpMetrics(service: string): HttpMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });

  const requests = new Counter({
    name: 'cdc_http_requests_total',
    help: 'HTTP requests by method, route and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'cdc_http_request_duration_seconds',
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
      const labels = { method: c.req.method, route: routeOf(c), status: String(c.res.status) };
      requests.inc(labels);
      end(labels);
    }
  };

  function observePool(name: string, read: () => PoolState) {
    // Three gauges rather than one with a state label: open, idle and waiting do not
    // add up to anything, so sum() over such a label would mislead.
    const collectFrom = (pick: (s: PoolState) => number) =>
      function (this: Gauge<'pool'>) {
        this.set({ pool: name }, pick(read()));
      };
    const registers = [registry];
    new Gauge({ name: 'cdc_db_pool_connections_open', help: 'Connections the pool holds open', labelNames: ['pool'] as const, registers, collect: collectFrom((s) => s.total) });
    new Gauge({ name: 'cdc_db_pool_connections_idle', help: 'Open connections not checked out', labelNames: ['pool'] as const, registers, collect: collectFrom((s) => s.idle) });
    new Gauge({ name: 'cdc_db_pool_clients_waiting', help: 'Queries queued for a free connection', labelNames: ['pool'] as const, registers, collect: collectFrom((s) => s.waiting) });
  }

  return { registry, middleware, observePool };
}
