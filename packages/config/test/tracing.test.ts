import { describe, expect, it } from 'vitest';
import { ConfigError, parseEnv, toTracingConfig, tracingEnv } from '../src/index.js';

const config = (env: Record<string, string | undefined>, service = 'svc') => toTracingConfig(parseEnv('test', tracingEnv, env), service);

describe('tracing config (OTEL_* variables)', () => {
  it('is off unless OTEL_TRACES_EXPORTER=otlp, an endpoint alone does not turn it on', () => {
    expect(config({})).toBeUndefined();
    expect(config({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' })).toBeUndefined();
    expect(config({ OTEL_TRACES_EXPORTER: 'none' })).toBeUndefined();
    // Empty is unset (compose's ${VAR:-}, a bare `VAR=` in .env).
    expect(config({ OTEL_TRACES_EXPORTER: '', OTEL_SDK_DISABLED: '' })).toBeUndefined();
  });

  it('OTEL_SDK_DISABLED=true (any case) wins over the exporter', () => {
    expect(config({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_SDK_DISABLED: 'TRUE' })).toBeUndefined();
    expect(config({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_SDK_DISABLED: 'false' })).toBeDefined();
  });

  it('on, with loopback and spec defaults', () => {
    expect(config({ OTEL_TRACES_EXPORTER: 'otlp' }, 'crm-api')).toEqual({
      serviceName: 'crm-api',
      resourceAttributes: {},
      url: 'http://127.0.0.1:4318/v1/traces',
      protocol: 'http/protobuf',
      headers: {},
      timeoutMs: 10_000,
      sampler: 'parentbased_always_on',
      samplerRatio: 1,
      scheduleDelayMs: 5_000,
      maxQueueSize: 2048,
    });
  });

  it('appends /v1/traces to the base endpoint; the traces endpoint is used as is and wins', () => {
    expect(config({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://jaeger:4318/' })?.url).toBe('http://jaeger:4318/v1/traces');
    expect(config({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_ENDPOINT: 'https://gw.example/otlp' })?.url).toBe('https://gw.example/otlp/v1/traces');
    expect(
      config({
        OTEL_TRACES_EXPORTER: 'otlp',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://jaeger:4318',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://127.0.0.1:9999/custom',
      })?.url,
    ).toBe('http://127.0.0.1:9999/custom');
  });

  it('signal-specific protocol, timeout and headers win; headers are percent-decoded and merged', () => {
    const c = config({
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
      OTEL_EXPORTER_OTLP_TIMEOUT: '5000',
      OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: '2500',
      OTEL_EXPORTER_OTLP_HEADERS: 'Authorization=Bearer%20abc, x-tenant=a',
      OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'x-tenant=b',
    });
    expect(c).toMatchObject({ protocol: 'http/json', timeoutMs: 2500, headers: { Authorization: 'Bearer abc', 'x-tenant': 'b' } });
  });

  it('service name: OTEL_SERVICE_NAME, else service.name of OTEL_RESOURCE_ATTRIBUTES, else the app', () => {
    const attrs = 'deployment.environment.name=dev,service.name=from-attributes';
    expect(config({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_RESOURCE_ATTRIBUTES: attrs })).toMatchObject({
      serviceName: 'from-attributes',
      resourceAttributes: { 'deployment.environment.name': 'dev' },
    });
    expect(config({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_RESOURCE_ATTRIBUTES: attrs, OTEL_SERVICE_NAME: 'named' })?.serviceName).toBe('named');
  });

  it('sampler and its ratio', () => {
    expect(config({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.25' })).toMatchObject({
      sampler: 'parentbased_traceidratio',
      samplerRatio: 0.25,
    });
  });

  it('rejects what it cannot honour, every problem in one error', () => {
    let error: unknown;
    try {
      config({
        OTEL_TRACES_EXPORTER: 'zipkin',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'not a url',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'grpc://127.0.0.1:4317',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
        OTEL_EXPORTER_OTLP_HEADERS: 'no-equals-sign',
        OTEL_TRACES_SAMPLER: 'sometimes',
        OTEL_TRACES_SAMPLER_ARG: '2',
        OTEL_SDK_DISABLED: 'maybe',
        OTEL_BSP_SCHEDULE_DELAY: '-1',
      });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues.map((i) => i.path).sort()).toEqual([
      'OTEL_BSP_SCHEDULE_DELAY',
      'OTEL_EXPORTER_OTLP_ENDPOINT',
      'OTEL_EXPORTER_OTLP_HEADERS',
      'OTEL_EXPORTER_OTLP_PROTOCOL',
      'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
      'OTEL_SDK_DISABLED',
      'OTEL_TRACES_EXPORTER',
      'OTEL_TRACES_SAMPLER',
      'OTEL_TRACES_SAMPLER_ARG',
    ]);
    expect((error as ConfigError).message).toMatch(/OTEL_TRACES_EXPORTER: expected "otlp" \(on\) or "none" \(off\)/);
  });
});
