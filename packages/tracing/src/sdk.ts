import { context, propagation, ROOT_CONTEXT, type Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { setGlobalErrorHandler, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter as OtlpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OtlpProtobufExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  TracerProvider,
  type Sampler,
} from '@opentelemetry/sdk-trace';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import type { TracingConfig } from '@cdc/config';
import type { Tracing, TracingOptions } from './index.js';

/*
 * The SDK proper, imported only when tracing is on. Built from @opentelemetry/sdk-trace,
 * the SDK core that reads no environment variables (sdk-trace-base/-node wrap it with
 * OTEL_* fallbacks): every setting comes from the validated config.
 */

function sampler(config: TracingConfig): Sampler {
  const ratio = new TraceIdRatioBasedSampler(config.samplerRatio);
  switch (config.sampler) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return ratio;
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: ratio });
  }
}

/** How often a failing export is logged: a down collector must not flood the logs. */
const ERROR_LOG_INTERVAL_MS = 60_000;

export function startSdk(config: TracingConfig, opts: TracingOptions): Tracing {
  const resource = defaultResource().merge(
    resourceFromAttributes({
      ...config.resourceAttributes,
      [ATTR_SERVICE_NAME]: config.serviceName,
      ...(opts.serviceVersion ? { [ATTR_SERVICE_VERSION]: opts.serviceVersion } : {}),
    }),
  );
  const exporterOptions = { url: config.url, headers: { ...config.headers }, timeoutMillis: config.timeoutMs };
  const exporter =
    config.protocol === 'http/json' ? new OtlpJsonExporter(exporterOptions) : new OtlpProtobufExporter(exporterOptions);
  const provider = new TracerProvider({
    resource,
    sampler: sampler(config),
    spanProcessors: [
      // Batched and off the request path: a request only appends to a bounded queue;
      // a slow or down collector costs dropped spans, never a slower or failed request.
      new BatchSpanProcessor({
        exporter,
        scheduledDelayMillis: config.scheduleDelayMs,
        maxQueueSize: config.maxQueueSize,
        maxExportBatchSize: Math.min(512, config.maxQueueSize),
        exportTimeoutMillis: config.timeoutMs,
      }),
    ],
  });

  // Parent/child links within the process follow async calls (AsyncLocalStorage);
  // W3C traceparent/tracestate carry a trace in from callers.
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());

  // The SDK's own warnings, outside any span: its export timer runs in the async
  // context of whichever request happened to end a span first, and its warning
  // would otherwise carry that unrelated request's trace id.
  const warn = (obj: object, msg: string) => context.with(ROOT_CONTEXT, () => opts.log?.warn(obj, msg));

  // Export failures reach the SDK's global error handler (silent by default).
  let lastLogged = 0;
  let suppressed = 0;
  setGlobalErrorHandler((err) => {
    const now = Date.now();
    if (now - lastLogged < ERROR_LOG_INTERVAL_MS) {
      suppressed++;
      return;
    }
    warn(
      { err: err instanceof Error ? err.message : String(err), url: config.url, suppressed_since_last: suppressed },
      'trace export failed (spans are dropped, requests are not affected)',
    );
    lastLogged = now;
    suppressed = 0;
  });

  const tracer: Tracer = provider.getTracer(opts.scope ?? config.serviceName, opts.serviceVersion);
  let stopping: Promise<void> | undefined;

  return {
    tracer,
    async shutdown(timeoutMs = 5_000) {
      stopping ??= (async () => {
        let timer: NodeJS.Timeout | undefined;
        const bounded = new Promise<'timeout'>((resolve) => {
          timer = setTimeout(() => resolve('timeout'), timeoutMs);
          // Never what keeps the process alive.
          timer.unref();
        });
        const flushed = provider.shutdown().then(
          () => 'flushed' as const,
          (err: unknown) => {
            warn({ err: err instanceof Error ? err.message : String(err) }, 'flushing traces failed');
            return 'failed' as const;
          },
        );
        const outcome = await Promise.race([flushed, bounded]);
        clearTimeout(timer);
        if (outcome === 'timeout') warn({ timeout_ms: timeoutMs, url: config.url }, 'gave up flushing traces');
        // Spans after shutdown are dropped by the provider; the globals go too, so
        // a later start in the same process (tests) registers afresh.
        context.disable();
        propagation.disable();
      })();
      return stopping;
    },
  };
}
