import { describe, expect, it } from 'vitest';
import { ConfigError } from '@cdc/config';
import { loadStackConfig } from './config.js';

describe('stack configuration', () => {
  it('defaults to the native stack on loopback with embedded ClickHouse', () => {
    const c = loadStackConfig({});
    expect(c.postgres.map((p) => [p.name, p.port, p.database])).toEqual([
      ['postgres-crm', 15432, 'crm_db'],
      ['postgres-telemetry', 15433, 'telemetry_db'],
    ]);
    expect(c.kafka).toMatchObject({ host: '127.0.0.1', port: 9092, controllerPort: 9093 });
    expect(c.clickhouse.embedded).toBe(true);
  });

  it('treats a non-loopback CLICKHOUSE_URL as an external server unless told otherwise', () => {
    expect(loadStackConfig({ CLICKHOUSE_URL: 'http://ch.internal:8123' }).clickhouse.embedded).toBe(false);
    expect(loadStackConfig({ CLICKHOUSE_URL: 'http://127.0.0.1:8123', CLICKHOUSE_MODE: 'external' }).clickhouse.embedded).toBe(false);
  });

  it('reports every invalid variable at once', () => {
    try {
      loadStackConfig({ CRM_DATABASE_URL: 'mysql://x', KAFKA_BROKERS: 'nohostport', CRM_API_PORT: '70000' });
      expect.unreachable('invalid config must throw');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const paths = (err as ConfigError).issues.map((i) => i.path).sort();
      expect(paths).toEqual(['CRM_API_PORT', 'CRM_DATABASE_URL', 'KAFKA_BROKERS.0']);
    }
  });
});
