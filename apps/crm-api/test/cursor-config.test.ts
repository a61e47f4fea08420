import { ConfigError } from '@cdc/config';
import { describe, expect, it } from 'vitest';
import { loadConfig, MAX_BODY_BYTES } from '../src/config.js';
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
    expect(loadConfig({})).toEqual({
      host: '127.0.0.1',
      port: 3002,
      logLevel: 'info',
      databaseUrl: 'postgresql://postgres:postgres@127.0.0.1:15432/crm_db',
      dbPoolMax: 10,
      shutdownGraceMs: 10_000,
      maxBodyBytes: 64 * 1024,
    });
    expect(MAX_BODY_BYTES).toBe(65_536);
  });

  it('lists every bad variable at once', () => {
    try {
      loadConfig({ CRM_API_PORT: '70000', CRM_DATABASE_URL: 'mysql://x/y', LOG_LEVEL: 'loud' });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).issues.map((i) => i.path).sort()).toEqual(['CRM_API_PORT', 'CRM_DATABASE_URL', 'LOG_LEVEL']);
    }
  });
});
