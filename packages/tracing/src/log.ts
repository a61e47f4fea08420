import { context, isSpanContextValid, trace } from '@opentelemetry/api';

/**
 * pino `mixin`: a log line written while a span is active carries that span's ids,
 * so a trace found in Jaeger leads to its log lines and a log line to its trace.
 *
 * A new object every call: pino merges the line's own fields INTO what the mixin
 * returns (Object.assign(mixinResult, fields)), so a shared object would collect
 * the fields of every line.
 */
export function traceLogFields(): Record<string, string> {
  const span = trace.getSpan(context.active());
  if (!span) return {};
  const sc = span.spanContext();
  if (!isSpanContextValid(sc)) return {};
  return { trace_id: sc.traceId, span_id: sc.spanId };
}

/**
 * The pino options to spread into a logger: the mixin when tracing is on, nothing
 * when off, so a line costs nothing more then and carries no empty trace fields.
 */
export function traceLogOptions(tracingOn: boolean): { mixin?: typeof traceLogFields } {
  return tracingOn ? { mixin: traceLogFields } : {};
}
