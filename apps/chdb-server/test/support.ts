import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type ClickHouseClient,
  type ClickHouseClientConfigOptions,
  ClickHouseLogLevel,
  createClient,
} from '@clickhouse/client';
import { loadConfig } from '../src/config.js';
import { type RunningServer, startServer } from '../src/server.js';

/**
 * A server on a free loopback port over a fresh data directory. chDB binds one
 * data directory per process, so each test file starts exactly one of these.
 */
export async function startTestServer(env: Record<string, string> = {}): Promise<RunningServer> {
  const dir = mkdtempSync(join(tmpdir(), 'chdb-server-test-'));
  const server = await startServer(
    loadConfig({ CHDB_DATA_PATH: dir, CLICKHOUSE_HTTP_PORT: '0', LOG_LEVEL: 'silent', ...env }),
  );
  return {
    url: server.url,
    async close() {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A client that keeps quiet about the errors the tests provoke on purpose. */
export function connect(url: string, options: ClickHouseClientConfigOptions = {}): ClickHouseClient {
  return createClient({ url, log: { level: ClickHouseLogLevel.OFF }, ...options });
}
