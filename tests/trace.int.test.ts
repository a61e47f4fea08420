import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sharedTestKey } from './support/api-keys.js';
import { startApp, type RunningApp } from './support/apps.js';
import { loadStackConfig } from '../scripts/stack/config.js';
import { up } from '../scripts/stack/stack.js';
import { clickhouse, env, pools, until } from './support/cdc.js';

/**
 * One event followed end to end (hops may take a minute when the stack was just
 * restarted: chDB's Kafka consumers wait out their old members' session first): posted through the Telemetry API with a request id,
 * `npm run trace` a moment later shows every hop (API → PostgreSQL commit → Kafka →
 * ClickHouse → analytics) in order, and the request id is stored at each stage.
 */
const ROOT = path.resolve(import.meta.dirname, '..');
const run = promisify(execFile);
const db = pools();
const ch = clickhouse();
let api: RunningApp;

beforeAll(async () => {
  api = await startApp('telemetry-api');
  // The stack's processor writes the last hop. The test setup starts only the
  // infrastructure, so the apps tier is brought up here (a no-op when it runs); after
  // a restart the processor first rebuilds its user dimension.
  await up(loadStackConfig(), ['apps']);
  await until('the stack\'s stream processor to be ready', async () => (await fetch(`http://127.0.0.1:${env.STREAM_PROCESSOR_PORT}/ready`).catch(() => undefined))?.ok || undefined, 180_000, 1_000);
}, 240_000);

afterAll(async () => {
  await api?.stop();
  await Promise.allSettled([db.crm.end(), db.telemetry.end(), ch.close()]);
});

interface JsonTrace {
  event_uuid: string;
  request_id: string | null;
  hops: { hop: string; at: string; after?: string; lag_ms: number | null; where: string }[];
  missing: string[];
}

describe('npm run trace', () => {
  it('follows an event posted a moment ago through every hop, with its request id', async () => {
    const requestId = `trace-test-${randomUUID()}`;
    const uuid = randomUUID();
    const res = await fetch(`${api.url}/telemetry-events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': requestId, ...(await sharedTestKey()).headers },
      body: JSON.stringify({
        event_uuid: uuid,
        user_id: 1,
        prosthesis_type: 'myoelectric_hand',
        muscle_group: 'forearm_flexors',
        signal_frequency: 1000,
        signal_duration: 250,
        signal_amplitude: 0.42,
        event_timestamp: new Date().toISOString(),
      }),
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('x-request-id')).toBe(requestId);

    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'scripts/trace/cli.ts', uuid, '--json', '--wait-s', '120'], {
      cwd: ROOT,
      timeout: 180_000,
    }).catch((err: Error & { stdout?: string; stderr?: string }) => {
      throw new Error(`npm run trace failed: ${err.message}\nstdout: ${err.stdout}\nstderr: ${err.stderr}`);
    });
    const trace = JSON.parse(stdout) as JsonTrace;
    expect(trace).toMatchObject({ event_uuid: uuid, request_id: requestId, missing: [] });
    expect(trace.hops.map((h) => h.hop)).toEqual(['API accepted', 'PostgreSQL commit', 'Kafka', 'ClickHouse row', 'analytics row']);
    // Each hop after the one it follows (ms rounding aside), and all within a minute.
    for (const h of trace.hops.slice(1)) {
      expect(h.lag_ms, h.hop).not.toBeNull();
      expect(h.lag_ms!, h.hop).toBeGreaterThanOrEqual(-1);
      expect(h.lag_ms!, h.hop).toBeLessThan(60_000);
    }
    expect(trace.hops[2]!.where).toMatch(/^telemetry\.public\.telemetry_events\[\d\]@\d+$/);

    // The request id is stored at every stage, not only shown.
    const { rows } = await db.telemetry.query<{ request_id: string }>('SELECT request_id FROM telemetry_events WHERE event_uuid = $1', [uuid]);
    expect(rows[0]?.request_id).toBe(requestId);
    for (const table of ['default.telemetry_events FINAL', 'debezium.telemetry_events_merge', 'analytics.telemetry_enriched FINAL']) {
      const rs = await ch.query({
        query: `SELECT DISTINCT request_id FROM ${table} WHERE event_uuid = {u:UUID}`,
        query_params: { u: uuid },
        format: 'JSONEachRow',
      });
      expect(await rs.json(), table).toEqual([{ request_id: requestId }]);
    }
  });

  it('says what is missing for an unknown event and exits 1; a malformed uuid is a usage error', async () => {
    const unknown = randomUUID();
    const missing = await run(process.execPath, ['--import', 'tsx', 'scripts/trace/cli.ts', unknown, '--wait-s', '0'], { cwd: ROOT }).then(
      () => undefined,
      (err: { code: number; stdout: string; stderr: string }) => err,
    );
    expect(missing?.code).toBe(1);
    expect(missing?.stdout).toMatch(/not reached \(yet\): API accepted, PostgreSQL commit, Kafka, ClickHouse row, analytics row/);
    expect(missing?.stderr).toMatch(new RegExp(`no event ${unknown}`));

    const bad = await run(process.execPath, ['--import', 'tsx', 'scripts/trace/cli.ts', 'not-a-uuid'], { cwd: ROOT }).then(
      () => undefined,
      (err: { code: number; stderr: string }) => err,
    );
    expect(bad?.code).toBe(2);
    expect(bad?.stderr).toMatch(/give exactly one event uuid/);
  });
});
