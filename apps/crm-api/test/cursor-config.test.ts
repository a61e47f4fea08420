import { ConfigError } from '@cdc/config';
import { describe, expect, it } from 'vitest';
import { loadConfig, MAX_BODY_BYTES } from '../src/config.js';
import { SECRETS_ENV } from '../../../tests/support/secrets-env.js';
import { decodeCursor, encodeCursor } from '../src/cursor.js';

describe('cursor', () => {
  it('round-trips every id, 0 to int32 max', () => {
    for (const id of [0, 1, 9, 10, 42, 999_999, 2_147_483_647]) expect(decodeCursor(encodeCursor(id))).toBe(id);
  });

  it.each(['', '!', 'YWJj', 'MTA=', 'MTA ', 'LTE', 'MS41', 'MDE', 'MjE0NzQ4MzY0OA', 'A'.repeat(17)])(
    'rejects %j',
    (cursor) => expect(decodeCursor(cursor)).toBeUndefined(),
  );
});

describe('config', () => {
  it('has working defaults (the native stack) and a fixed 64 KiB body limit', () => {
    expect(loadConfig(SECRETS_ENV)).toEqual({
      host: '127.0.0.1',
      port: 3002,
      logLevel: 'info',
      databaseUrl: SECRETS_ENV.CRM_DATABASE_URL,
      dbPoolMax: 10,
      clickhouse: { CLICKHOUSE_URL: 'http://127.0.0.1:8123', CLICKHOUSE_USER: 'pipeline', CLICKHOUSE_PASSWORD: SECRETS_ENV.CLICKHOUSE_PASSWORD },
      kafka: { brokers: ['127.0.0.1:9092'], user: 'admin', password: SECRETS_ENV.KAFKA_PASSWORD },
      erasureCdcTimeoutMs: 60_000,
      shutdownGraceMs: 10_000,
      maxBodyBytes: 64 * 1024,
      auth: { mode: 'required', opsEndpoints: 'open', keyCacheMs: 5_000, defaultRatePerSecond: 100 },
      timeouts: { headersMs: 10_000, requestMs: 60_000 },
    });
    expect(MAX_BODY_BYTES).toBe(65_536);
  });

  it('refuses API_AUTH=off unless the API listens on loopback only', () => {
    expect(loadConfig({ ...SECRETS_ENV, API_AUTH: 'off' }).auth.mode).toBe('off');
    expect(() => loadConfig({ ...SECRETS_ENV, API_AUTH: 'off', HOST: '0.0.0.0' })).toThrow(/API_AUTH: off is allowed only with HOST on loopback/);
    expect(() => loadConfig({ ...SECRETS_ENV, API_AUTH: 'none' })).toThrow(ConfigError);
  });

  it('lists every bad variable at once', () => {
    try {
      loadConfig({ CRM_API_PORT: '70000', CRM_DATABASE_URL: 'mysql://x/y', LOG_LEVEL: 'loud' });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).issues.map((i) => i.path).sort()).toEqual(['CLICKHOUSE_PASSWORD', 'CRM_API_PORT', 'CRM_DATABASE_URL', 'KAFKA_PASSWORD', 'LOG_LEVEL']);
    }
  });
});
