import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadStackConfig } from '../../../scripts/stack/config.js';
import { pauseComponent } from '../../../scripts/stack/stack.js';
import { sharedTestKey } from '../../../tests/support/api-keys.js';
import { startApp, type RunningApp } from '../../../tests/support/apps.js';
import { clickhouse, pools, until } from '../../../tests/support/cdc.js';

const db = pools();
const ch = clickhouse();
let processor: RunningApp;
// One processor writes the analytics at a time: the stack's own instance pauses meanwhile.
const stackConfig = loadStackConfig();
let resumeStackProcessor: () => Promise<void> = async () => {};

beforeAll(async () => {
  resumeStackProcessor = (await pauseComponent(stackConfig, 'stream-processor')).resume;
  processor = await startApp('stream-processor', { CDC_FRESHNESS_POLL_MS: '200', CDC_USERS_JOIN_PURGE_MS: '500' });
});

afterAll(async () => {
  await processor?.stop();
  await resumeStackProcessor();
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

  it('GET/POST /query runs one read-only query with a row limit and a timeout; errors are problem+json', async () => {
    const key = await sharedTestKey();
    const get = await fetch(`${processor.url}/query?sql=${encodeURIComponent('SELECT number AS n FROM numbers(5)')}&max_rows=3`, { headers: key.headers });
    expect(get.status).toBe(200);
    const body = (await get.json()) as { columns: { name: string }[]; rows: unknown[][]; truncated: boolean };
    expect(body.columns.map((c) => c.name)).toEqual(['n']);
    expect(body.rows.map((r) => Number(r[0]))).toEqual([0, 1, 2]);
    expect(body.truncated).toBe(true);

    const post = (payload: unknown) =>
      fetch(`${processor.url}/query`, { method: 'POST', headers: { 'content-type': 'application/json', ...key.headers }, body: JSON.stringify(payload) });
    const ok = await post({ sql: 'SELECT count() AS n FROM debezium.freshness' });
    expect(ok.status).toBe(200);

    const write = await post({ sql: 'CREATE TABLE default.should_not_exist (x UInt8) ENGINE = Memory' });
    expect(write.status).toBe(422);
    expect(write.headers.get('content-type')).toMatch(/application\/problem\+json/);
    const exists = await ch.query({ query: "SELECT count() AS n FROM system.tables WHERE name = 'should_not_exist'", format: 'JSONEachRow' });
    expect(Number((await exists.json<{ n: number }>())[0]!.n)).toBe(0);

    const outfile = await post({ sql: "SELECT 1 INTO OUTFILE '/tmp/x.csv'" });
    expect(outfile.status).toBe(400);
    const slow = await post({ sql: 'SELECT count() FROM numbers(100000000000)', timeout_s: 1 });
    expect(slow.status).toBe(504);
    const bad = await post({ sql: 'SELECT', extra: 1 });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { errors: { path: string }[] }).errors.map((e) => e.path)).toEqual(['']);
  }, 60_000);
});
