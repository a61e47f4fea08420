import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type RunningApp } from '../../../tests/support/apps.js';
import { clickhouse, pools, until } from '../../../tests/support/cdc.js';

const db = pools();
const ch = clickhouse();
let processor: RunningApp;

beforeAll(async () => {
  processor = await startApp('stream-processor', { CDC_FRESHNESS_POLL_MS: '200', CDC_USERS_JOIN_PURGE_MS: '500' });
});

afterAll(async () => {
  await processor?.stop();
  await Promise.allSettled([db.crm.end(), db.telemetry.end(), ch.close()]);
});

const metrics = async () => (await fetch(`${processor.url}/metrics`)).text();

describe('stream processor: ClickHouse CDC monitor', () => {
  it('exposes the freshness of both tables and the error count as Prometheus metrics', async () => {
    // A change now, so the users table has a recent lag to report.
    await db.crm.query("INSERT INTO users (name, email) VALUES ('Monitor check', $1)", [`monitor+${randomBytes(4).toString('hex')}@example.com`]);
    const text = await until('users lag in /metrics', async () => {
      const t = await metrics();
      return /cdc_clickhouse_lag_seconds\{table="users",stat="p99",service="stream-processor"\} \d/.test(t) &&
        /cdc_monitor_up\{service="stream-processor"\} 1/.test(t)
        ? t
        : undefined;
    }, 60_000);
    expect(text).toMatch(/cdc_monitor_up\{service="stream-processor"\} 1/);
    expect(text).toMatch(/cdc_clickhouse_changes_5m\{table="users",service="stream-processor"\} [1-9]/);
    expect(text).toMatch(/cdc_clickhouse_seconds_since_last_change\{table="users",service="stream-processor"\} \d/);
  }, 90_000);

  it('purges deleted users from debezium.users_join', async () => {
    const email = `purge+${randomBytes(4).toString('hex')}@example.com`;
    const { rows } = await db.crm.query<{ id: number }>("INSERT INTO users (name, email) VALUES ('Purge check', $1) RETURNING id", [email]);
    const id = rows[0]!.id;
    const entry = async () =>
      (await (await ch.query({ query: 'SELECT email, _is_deleted FROM debezium.users_join WHERE id = {id:Int32}', query_params: { id }, format: 'JSONEachRow' })).json<{ email: string; _is_deleted: number }>())[0];
    await until('the user in users_join', async () => (await entry())?.email === email, 60_000);
    await db.crm.query('DELETE FROM users WHERE id = $1', [id]);
    // First an empty entry marked deleted (written by users_mv), then no entry at all.
    await until('the deleted user purged from users_join', async () => (await entry()) === undefined, 60_000);
    const rs = await ch.query({ query: 'SELECT count() AS n FROM default.users FINAL WHERE id = {id:Int32}', query_params: { id }, format: 'JSONEachRow' });
    expect(Number((await rs.json<{ n: number }>())[0]!.n)).toBe(0);
  }, 90_000);
});
