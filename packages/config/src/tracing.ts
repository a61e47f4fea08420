import { z } from 'zod';

/**
 * OpenTelemetry tracing, configured by the standard OTEL_* variables
 * (https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/)
 * and validated here once, at start, like every other variable: a typo in an
 * endpoint stops the process with a readable error instead of silently losing
 * every span. The SDK is then configured only from the result (packages/tracing).
 *
 * Off unless OTEL_TRACES_EXPORTER=otlp. That differs from the spec's default
 * ("otlp") on purpose: an app must not try to reach a collector nobody runs.
 */

/** '' means unset: `OTEL_TRACES_EXPORTER=` in a .env, or compose's `${VAR:-}`. */
const unsetIfEmpty = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (v === '' ? undefined : v), schema);

/**
 * "key1=value1,key2=value2" with percent-encoded values (the W3C baggage format the
 * spec uses for OTEL_RESOURCE_ATTRIBUTES and OTEL_EXPORTER_OTLP_HEADERS).
 */
const keyValueList = z.string().transform((s, ctx) => {
  const out: Record<string, string> = {};
  for (const item of s.split(',')) {
    if (item.trim() === '') continue;
    const eq = item.indexOf('=');
    const key = eq > 0 ? item.slice(0, eq).trim() : '';
    if (!key) {
      ctx.addIssue({ code: 'custom', message: `expected key=value, got "${item.trim()}"` });
      return z.NEVER;
    }
    try {
      out[key] = decodeURIComponent(item.slice(eq + 1).trim());
    } catch {
      ctx.addIssue({ code: 'custom', message: `the value of ${key} is not valid percent-encoding` });
      return z.NEVER;
    }
  }
  return out;
});

const otlpUrl = z.url({ protocol: /^https?$/ });
const protocol = z.enum(['http/protobuf', 'http/json']);
const millis = z.coerce.number().int().min(1).max(600_000);
const SAMPLERS = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
] as const;

/** Spread into an app's env schema: `z.object({ ...appVars, ...tracingEnv.shape })`. */
export const tracingEnv = z.object({
  OTEL_SDK_DISABLED: unsetIfEmpty(
    z
      .string()
      .transform((v) => v.trim().toLowerCase())
      .pipe(z.enum(['true', 'false']))
      .transform((v) => v === 'true')
      .default(false),
  ),
  OTEL_TRACES_EXPORTER: unsetIfEmpty(
    z.enum(['none', 'otlp'], { message: 'expected "otlp" (on) or "none" (off); no other exporter is built in' }).default('none'),
  ),
  // Unset: the app's own name (crm-api, telemetry-api, stream-processor).
  OTEL_SERVICE_NAME: unsetIfEmpty(z.string().trim().min(1).optional()),
  OTEL_RESOURCE_ATTRIBUTES: unsetIfEmpty(keyValueList.default({})),
  // The collector's base URL; traces go to <base>/v1/traces. Loopback, like every
  // default here (the spec says localhost, which may resolve to ::1 first).
  OTEL_EXPORTER_OTLP_ENDPOINT: unsetIfEmpty(otlpUrl.default('http://127.0.0.1:4318')),
  // The full traces URL, used as is; wins over the base URL.
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: unsetIfEmpty(otlpUrl.optional()),
  OTEL_EXPORTER_OTLP_PROTOCOL: unsetIfEmpty(protocol.default('http/protobuf')),
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: unsetIfEmpty(protocol.optional()),
  OTEL_EXPORTER_OTLP_HEADERS: unsetIfEmpty(keyValueList.default({})),
  OTEL_EXPORTER_OTLP_TRACES_HEADERS: unsetIfEmpty(keyValueList.default({})),
  // Per export request; also what bounds a flush against a collector that hangs.
  OTEL_EXPORTER_OTLP_TIMEOUT: unsetIfEmpty(millis.default(10_000)),
  OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: unsetIfEmpty(millis.optional()),
  OTEL_TRACES_SAMPLER: unsetIfEmpty(z.enum(SAMPLERS).default('parentbased_always_on')),
  // The ratio of the *traceidratio samplers; ignored by the others.
  OTEL_TRACES_SAMPLER_ARG: unsetIfEmpty(z.coerce.number().min(0).max(1).optional()),
  // How long finished spans wait in memory before they are sent in one request.
  OTEL_BSP_SCHEDULE_DELAY: unsetIfEmpty(millis.default(5_000)),
  // Spans held at most while the collector is slow or down; beyond, new ones are dropped.
  OTEL_BSP_MAX_QUEUE_SIZE: unsetIfEmpty(z.coerce.number().int().min(1).max(1_000_000).default(2048)),
});

export type TracingEnv = z.infer<typeof tracingEnv>;
export type TracesSampler = (typeof SAMPLERS)[number];

/** What packages/tracing needs to start the SDK; `undefined` anywhere means tracing is off. */
export interface TracingConfig {
  serviceName: string;
  resourceAttributes: Readonly<Record<string, string>>;
  /** The full OTLP/HTTP traces URL. */
  url: string;
  protocol: z.infer<typeof protocol>;
  headers: Readonly<Record<string, string>>;
  timeoutMs: number;
  sampler: TracesSampler;
  /** The ratio of the *traceidratio samplers (1 when not given). */
  samplerRatio: number;
  scheduleDelayMs: number;
  maxQueueSize: number;
}

/** The base URL plus the signal path, as the spec says (no double slash). */
function tracesUrl(base: string): string {
  return `${base.replace(/\/+$/, '')}/v1/traces`;
}

/**
 * The validated variables → the tracing config, or undefined when tracing is off
 * (OTEL_TRACES_EXPORTER unset or "none", or OTEL_SDK_DISABLED=true).
 * Signal-specific variables (…_TRACES_…) win over the general ones.
 */
export function toTracingConfig(e: TracingEnv, defaultServiceName: string): TracingConfig | undefined {
  if (e.OTEL_SDK_DISABLED || e.OTEL_TRACES_EXPORTER === 'none') return undefined;
  return Object.freeze({
    // OTEL_SERVICE_NAME wins over a service.name in OTEL_RESOURCE_ATTRIBUTES (spec).
    serviceName: e.OTEL_SERVICE_NAME ?? e.OTEL_RESOURCE_ATTRIBUTES['service.name'] ?? defaultServiceName,
    resourceAttributes: e.OTEL_RESOURCE_ATTRIBUTES,
    url: e.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? tracesUrl(e.OTEL_EXPORTER_OTLP_ENDPOINT),
    protocol: e.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? e.OTEL_EXPORTER_OTLP_PROTOCOL,
    headers: { ...e.OTEL_EXPORTER_OTLP_HEADERS, ...e.OTEL_EXPORTER_OTLP_TRACES_HEADERS },
    timeoutMs: e.OTEL_EXPORTER_OTLP_TRACES_TIMEOUT ?? e.OTEL_EXPORTER_OTLP_TIMEOUT,
    sampler: e.OTEL_TRACES_SAMPLER,
    samplerRatio: e.OTEL_TRACES_SAMPLER_ARG ?? 1,
    scheduleDelayMs: e.OTEL_BSP_SCHEDULE_DELAY,
    maxQueueSize: e.OTEL_BSP_MAX_QUEUE_SIZE,
  });
}
