import { serve, type ServerType } from '@hono/node-server';
import type { Hono } from 'hono';
import type { HttpServerTimeouts } from '@cdc/config';
import type { Logger } from 'pino';

export interface RunningServer {
  url: string;
  /** Stops accepting, lets in-flight requests finish (up to `graceMs`), then runs `onClose`. */
  close(): Promise<void>;
}

export interface ServeOptions {
  host: string;
  port: number;
  log: Logger;
  graceMs?: number;
  /** Release resources (database pools) after the last request has finished. */
  onClose?: () => Promise<void>;
  /** Slow and idle clients are cut off after these (default 10 s for headers, 60 s per request). */
  timeouts?: HttpServerTimeouts;
}

export function startServer(app: Hono<any>, opts: ServeOptions): Promise<RunningServer> {
  return new Promise((resolve, reject) => {
    let server: ServerType;
    const onError = (err: Error) => reject(err);
    const timeouts = opts.timeouts ?? { headersMs: 10_000, requestMs: 60_000 };
    const serverOptions = {
      // A connection that sends nothing, or its headers a byte at a time, is in the
      // headers phase: answered 408 and closed after headersMs. A body that trickles
      // in is cut at requestMs. Both are checked every second, not Node's 30 s.
      headersTimeout: timeouts.headersMs,
      requestTimeout: Math.max(timeouts.requestMs, timeouts.headersMs),
      connectionsCheckingInterval: 1_000,
      keepAliveTimeout: 5_000,
    };
    server = serve({ fetch: app.fetch, hostname: opts.host, port: opts.port, serverOptions }, (info) => {
      server.off('error', onError);
      const url = `http://${opts.host}:${info.port}`;
      opts.log.info({ url }, 'listening');
      let closing: Promise<void> | undefined;
      resolve({
        url,
        close: () =>
          (closing ??= (async () => {
            await new Promise<void>((done) => {
              const timer = setTimeout(() => {
                opts.log.warn('grace period over, closing remaining connections');
                if ('closeAllConnections' in server) server.closeAllConnections();
              }, opts.graceMs ?? 10_000);
              // A keep-alive socket turns idle as soon as its in-flight response is
              // sent; close idle ones now and as they appear, or close() waits for
              // each client's keep-alive timeout.
              const reap = () => {
                if ('closeIdleConnections' in server) server.closeIdleConnections();
              };
              const reaper = setInterval(reap, 100);
              server.close(() => {
                clearTimeout(timer);
                clearInterval(reaper);
                done();
              });
              reap();
            });
            await opts.onClose?.();
            opts.log.info('stopped');
          })()),
      });
    });
    server.once('error', onError);
  });
}

/** SIGTERM/SIGINT → graceful close → exit 0 (1 if closing failed). */
export function exitOnSignals(server: RunningServer, log: Logger): void {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      log.info({ signal }, 'shutting down: draining in-flight requests');
      server.close().then(
        () => process.exit(0),
        (err: unknown) => {
          log.error({ err }, 'shutdown failed');
          process.exit(1);
        },
      );
    });
  }
}
