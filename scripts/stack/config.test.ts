import { describe, expect, it } from 'vitest';
import { ConfigError } from '@cdc/config';
import { loadStackConfig } from './config.js';
import { SECRETS_ENV } from '../../tests/support/secrets-env.js';

describe('stack configuration', () => {
  it('defaults to the native stack on loopback with embedded ClickHouse', () => {
    const c = loadStackConfig(SECRETS_ENV);
    expect(c.postgres.map((p) => [p.name, p.port, p.database])).toEqual([
      ['postgres-crm', 15432, 'crm_db'],
      ['postgres-telemetry', 15433, 'telemetry_db'],
    ]);
    expect(c.kafka).toMatchObject({ host: '127.0.0.1', port: 9092, controllerPort: 9093 });
    expect(c.clickhouse.embedded).toBe(true);
  });

  it('treats a non-loopback CLICKHOUSE_URL as an external server unless told otherwise', () => {
    expect(loadStackConfig({ ...SECRETS_ENV, CLICKHOUSE_URL: 'http://ch.internal:8123' }).clickhouse.embedded).toBe(false);
    expect(loadStackConfig({ ...SECRETS_ENV, CLICKHOUSE_URL: 'http://127.0.0.1:8123', CLICKHOUSE_MODE: 'external' }).clickhouse.embedded).toBe(false);
  });

  it('reports every invalid variable at once', () => {
    try {
      loadStackConfig({ ...SECRETS_ENV, CRM_DATABASE_URL: 'mysql://x', KAFKA_BROKERS: 'nohostport', CRM_API_PORT: '70000' });
      expect.unreachable('invalid config must throw');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const paths = (err as ConfigError).issues.map((i) => i.path).sort();
      expect(paths).toEqual(['CRM_API_PORT', 'CRM_DATABASE_URL', 'KAFKA_BROKERS.0']);
    }
  });

  it('refuses a Kafka password that JAAS or Kafka\'s tools would mangle', () => {
    expect(() => loadStackConfig({ ...SECRETS_ENV, KAFKA_CONNECT_PASSWORD: 'has"quote-and-more' })).toThrow(/KAFKA_CONNECT_PASSWORD/);
    expect(() => loadStackConfig({ ...SECRETS_ENV, KAFKA_PASSWORD: 'short' })).toThrow(/KAFKA_PASSWORD/);
  });

  it('has no default password: each missing one is named, with where it comes from', () => {
    try {
      loadStackConfig({});
      expect.unreachable('a config without passwords must throw');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const issues = (err as ConfigError).issues;
      expect(issues.map((i) => i.path).sort()).toEqual([
        'CLICKHOUSE_ANALYST_PASSWORD',
        'CLICKHOUSE_PASSWORD',
        'CRM_DATABASE_URL',
        'KAFKA_CLICKHOUSE_PASSWORD',
        'KAFKA_CONNECT_PASSWORD',
        'KAFKA_CONSOLE_PASSWORD',
        'KAFKA_ERASER_PASSWORD',
        'KAFKA_PASSWORD',
        'KAFKA_PROCESSOR_PASSWORD',
        'TELEMETRY_DATABASE_URL',
      ]);
      for (const i of issues) expect(i.message).toContain('npm run up');
    }
  });
});
