import { createClient, type ClickHouseClient } from '@clickhouse/client';
import type { Endpoints } from '@cdc/config';

/**
 * Who a client acts as (clickhouse/users.yaml): `pipeline` writes and migrates,
 * `analyst` is read-only and bounded (people, BI tools, the console's SQL page).
 */
export type ClickHouseRole = 'pipeline' | 'analyst';

export function createClickHouse(
  endpoints: Pick<Endpoints, 'CLICKHOUSE_URL' | 'CLICKHOUSE_USER' | 'CLICKHOUSE_PASSWORD'> &
    Partial<Pick<Endpoints, 'CLICKHOUSE_ANALYST_USER' | 'CLICKHOUSE_ANALYST_PASSWORD'>>,
  role: ClickHouseRole,
  opts: { requestTimeoutMs?: number; application?: string; maxOpenConnections?: number } = {},
): ClickHouseClient {
  const [username, password] =
    role === 'pipeline'
      ? [endpoints.CLICKHOUSE_USER, endpoints.CLICKHOUSE_PASSWORD]
      : [endpoints.CLICKHOUSE_ANALYST_USER, endpoints.CLICKHOUSE_ANALYST_PASSWORD];
  if (username === undefined || password === undefined) throw new Error(`createClickHouse: no ${role} credentials given`);
  return createClient({
    url: endpoints.CLICKHOUSE_URL,
    username,
    password,
    request_timeout: opts.requestTimeoutMs ?? 30_000,
    ...(opts.application && { application: opts.application }),
    ...(opts.maxOpenConnections && { max_open_connections: opts.maxOpenConnections }),
    // A long query sends progress headers now and then, so no proxy or socket between
    // here and the server closes the connection as idle while it runs.
    clickhouse_settings: { send_progress_in_http_headers: 1, http_headers_progress_interval_ms: '10000' },
  });
}
