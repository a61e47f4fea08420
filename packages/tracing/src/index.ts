import type { Tracer } from '@opentelemetry/api';
import type { TracingConfig } from '@cdc/config';

export * from './db.js';
export * from './log.js';
export * from './spans.js';

export interface Tracing {
  /** Undefined when tracing is off: callers then create no spans at all. */
  readonly tracer: Tracer | undefined;
  /**
   * Flushes the spans still queued and stops the exporter. Resolves within
   * `timeoutMs` whatever the collector does, so shutdown never hangs on it.
   */
  shutdown(timeoutMs?: number): Promise<void>;
}

export interface TracingOptions {
  /** service.version on every span. */
  serviceVersion?: string;
  /** Instrumentation scope name of the tracer (default: the service name). */
  scope?: string;
  /** Where export failures are reported (rate-limited). */
  log?: { warn(obj: object, msg: string): void };
}

export const TRACING_OFF: Tracing = Object.freeze({ tracer: undefined, shutdown: async () => {} });

/**
 * Starts the OpenTelemetry SDK when `config` says tracing is on (see
 * @cdc/config's toTracingConfig). Off, the SDK is not even loaded: the apps then
 * run exactly the code they ran before tracing existed.
 */
export async function startTracing(config: TracingConfig | undefined, opts: TracingOptions = {}): Promise<Tracing> {
  if (!config) return TRACING_OFF;
  const { startSdk } = await import('./sdk.js');
  return startSdk(config, opts);
}
