import { describe, expect, it } from 'vitest';
import { ConfigError } from '@cdc/config';
import { SECRETS_ENV } from './support/secrets-env.js';
import { loadConfig as crmConfig } from '../apps/crm-api/src/config.js';
import { loadConfig as processorConfig } from '../apps/stream-processor/src/config.js';
import { loadConfig as telemetryConfig } from '../apps/telemetry-api/src/config.js';

/** Each app validates the OTEL_* variables with the rest of its environment, at start. */
const apps = [
  ['crm-api', crmConfig],
  ['telemetry-api', telemetryConfig],
  ['stream-processor', processorConfig],
] as const;

describe.each(apps)('%s configuration', (name, load) => {
  it('has tracing off by default', () => {
    expect(load(SECRETS_ENV).tracing).toBeUndefined();
  });

  it('turns it on with OTEL_TRACES_EXPORTER=otlp, named after the app', () => {
    expect(load({ ...SECRETS_ENV, OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }).tracing).toMatchObject({
      serviceName: name,
      url: 'http://127.0.0.1:4318/v1/traces',
    });
  });

  it('refuses a bad tracing variable at start, with the app’s other problems', () => {
    let error: unknown;
    try {
      load({ ...SECRETS_ENV, OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_ENDPOINT: 'localhost:4318', LOG_LEVEL: 'loud' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues.map((i) => i.path).sort()).toEqual(['LOG_LEVEL', 'OTEL_EXPORTER_OTLP_ENDPOINT']);
  });
});
