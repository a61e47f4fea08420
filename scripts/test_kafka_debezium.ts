/**
 * The end-to-end check of a running pipeline (seed: test_kafka_debezium):
 *   1. both Debezium connectors RUNNING;
 *   2. writes through both APIs: a user created, updated and deleted; one event by
 *      POST /telemetry-events and 100 by the batch route;
 *   3. each change visible in ClickHouse's current-state tables, with the time it took;
 *   4. debezium.freshness.
 *
 *   npm run test:kafka-debezium        (needs `npm run up`)
 *
 * Exits non-zero when a step fails or a change is not in ClickHouse within 60 s.
 * The events stay (the API has no delete); they carry prosthesis_type 'e2e_check'.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createClient } from '@clickhouse/client';
import { loadDotEnv, loadEndpoints } from '@cdc/config';
import { ConnectClient, loadConnectorDefinitions } from './lib/connectors.js';
import { temporaryKey } from './keys/temporary.js';

loadDotEnv();
const env = loadEndpoints();
const crmApi = `http://127.0.0.1:${env.CRM_API_PORT}`;
const telemetryApi = `http://127.0.0.1:${env.TELEMETRY_API_PORT}`;
const ch = createClient({ url: env.CLICKHOUSE_URL, username: env.CLICKHOUSE_USER, password: env.CLICKHOUSE_PASSWORD });
const TIMEOUT_MS = 60_000;

class CheckFailed extends Error {}

// A key of this check's own, revoked when it ends (scripts/keys/temporary.ts).
const key = await temporaryKey(env, 'test:kafka-debezium', ['users:write', 'telemetry:write']);

async function api<T>(method: string, url: string, body?: unknown): Promise<T> {
  const auth = { authorization: `Bearer ${key.token}` };
  const res = await fetch(url, {
    method,
    headers: body === undefined ? auth : { 'content-type': 'application/json', ...auth },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  if (!res.ok) throw new CheckFailed(`${method} ${url} → ${res.status} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

async function scalar(query: string, params: Record<string, unknown>): Promise<string | undefined> {
  const rs = await ch.query({ query, query_params: params, format: 'JSONEachRow' });
  const rows = await rs.json<{ v: string }>();
  return rows[0]?.v;
}

/** Polls until `check` holds; returns the milliseconds since `since`. */
async function visible(what: string, since: number, check: () => Promise<boolean>): Promise<number> {
  const deadline = since + TIMEOUT_MS;
  while (!(await check())) {
    if (Date.now() > deadline) throw new CheckFailed(`${what}: not in ClickHouse after ${TIMEOUT_MS / 1000} s`);
    await new Promise((r) => setTimeout(r, 25));
  }
  const ms = Date.now() - since;
  console.log(`✔ ${what.padEnd(52)} ${String(ms).padStart(6)} ms after the API answered`);
  return ms;
}

async function main(): Promise<void> {
  const connect = new ConnectClient(env.KAFKA_CONNECT_URL);
  for (const { name } of loadConnectorDefinitions()) {
    const s = await connect.status(name).catch((e: Error) => {
      throw new CheckFailed(`Kafka Connect at ${env.KAFKA_CONNECT_URL}: ${e.message}`);
    });
    const states = s ? [s.connector.state, ...s.tasks.map((t) => t.state)] : ['NOT REGISTERED'];
    if (!s || states.some((x) => x !== 'RUNNING')) {
      const trace = s?.tasks.find((t) => t.trace)?.trace ?? '';
      throw new CheckFailed(`connector ${name}: ${states.join(', ')} (npm run setup:connectors)\n${trace}`);
    }
    console.log(`✔ connector ${name.padEnd(42)} RUNNING`);
  }

  const email = `e2e.check+${randomBytes(4).toString('hex')}@example.com`;
  let t = Date.now();
  const user = await api<{ id: number }>('POST', `${crmApi}/users`, { name: 'E2E Ünïcode check', email, country: 'UA' });
  t = Date.now();
  await visible(`user ${user.id} created`, t, async () =>
    (await scalar('SELECT email AS v FROM default.users FINAL WHERE id = {id:Int32}', { id: user.id })) === email,
  );

  await api('PATCH', `${crmApi}/users/${user.id}`, { country: 'PL' });
  t = Date.now();
  await visible(`user ${user.id} updated`, t, async () =>
    (await scalar('SELECT country AS v FROM default.users FINAL WHERE id = {id:Int32}', { id: user.id })) === 'PL',
  );

  const event = {
    event_uuid: randomUUID(),
    user_id: user.id,
    prosthesis_type: 'e2e_check',
    muscle_group: 'biceps',
    signal_frequency: 1000,
    signal_duration: 250,
    signal_amplitude: 0.731,
    event_timestamp: new Date().toISOString(),
  };
  await api('POST', `${telemetryApi}/telemetry-events`, event);
  t = Date.now();
  await visible(`event ${event.event_uuid.slice(0, 8)}… stored`, t, async () =>
    (await scalar('SELECT toString(signal_amplitude) AS v FROM default.telemetry_events FINAL WHERE event_uuid = {u:UUID}', {
      u: event.event_uuid,
    })) === '0.731',
  );

  const batch = Array.from({ length: 100 }, (_, i) => ({ ...event, event_uuid: randomUUID(), signal_amplitude: i / 10 }));
  await api('POST', `${telemetryApi}/telemetry-events/batch`, { events: batch });
  t = Date.now();
  await visible('batch of 100 events stored', t, async () =>
    Number(
      await scalar('SELECT count() AS v FROM default.telemetry_events FINAL WHERE event_uuid IN {u:Array(UUID)}', {
        u: batch.map((e) => e.event_uuid),
      }),
    ) === 100,
  );

  await api('DELETE', `${crmApi}/users/${user.id}`);
  t = Date.now();
  await visible(`user ${user.id} deleted`, t, async () =>
    Number(await scalar('SELECT count() AS v FROM default.users FINAL WHERE id = {id:Int32}', { id: user.id })) === 0,
  );

  const rs = await ch.query({ query: 'SELECT * FROM debezium.freshness ORDER BY source_table', format: 'JSONEachRow' });
  console.log('\nSELECT * FROM debezium.freshness');
  console.table(await rs.json());
}

try {
  await main();
  console.log('end-to-end check passed');
} catch (err) {
  console.error(`✘ ${err instanceof CheckFailed ? err.message : (err as Error).stack}`);
  process.exitCode = 1;
} finally {
  await key.revoke();
  await ch.close();
}
