/**
 * Follows one telemetry event end to end and prints each hop with its time and lag:
 *
 *   npm run trace -- <event_uuid> [--wait-s 15] [--json]
 *
 * Waits up to --wait-s for hops not reached yet (an event posted a moment ago).
 * Exit codes: 0 every hop reached, 1 some hop not reached in time or a failure, 2 usage.
 */
import { parseArgs } from 'node:util';
import { createClient } from '@clickhouse/client';
import pg from 'pg';
import { consoleBaseUrl, loadDotEnv, loadEndpoints } from '@cdc/config';
import { loadKafkaCliConfig } from '../kafka/config.js';
import { PartitionReader } from '@cdc/kafka';
import { consoleLinks, formatTrace, lagMs, traceEvent, type Trace } from '@cdc/event-trace';

const USAGE = 'usage: npm run trace -- <event_uuid> [--wait-s S] [--json]';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function usage(message: string): never {
  console.error(`✘ ${message}\n${USAGE}`);
  process.exit(2);
}

let args: ReturnType<typeof parseArgs<{ options: { 'wait-s': { type: 'string' }; json: { type: 'boolean' } }; allowPositionals: true }>>;
try {
  args = parseArgs({ options: { 'wait-s': { type: 'string' }, json: { type: 'boolean' } }, allowPositionals: true });
} catch (err) {
  usage((err as Error).message);
}
const [uuid] = args.positionals;
if (!uuid || args.positionals.length > 1 || !UUID.test(uuid)) usage('give exactly one event uuid');
const waitS = Number(args.values['wait-s'] ?? 15);
if (!Number.isFinite(waitS) || waitS < 0) usage('--wait-s expects a number of seconds ≥ 0');

loadDotEnv();
const endpoints = loadEndpoints();
const kafkaConfig = loadKafkaCliConfig();
const telemetryDb = new pg.Pool({ connectionString: endpoints.TELEMETRY_DATABASE_URL, max: 1, connectionTimeoutMillis: 5_000 });
const ch = createClient({ url: endpoints.CLICKHOUSE_URL, username: endpoints.CLICKHOUSE_USER, password: endpoints.CLICKHOUSE_PASSWORD, request_timeout: 15_000 });
const reader = new PartitionReader({ ...kafkaConfig, clientId: 'cdc-trace' });
const kafkaTimes = new Map<string, Date>();

let exitCode = 0;
try {
  const sources = {
    telemetryDb,
    ch,
    eventsTopic: 'telemetry.public.telemetry_events',
    async kafkaTimestamp(topic: string, partition: number, offset: string) {
      const key = `${topic}/${partition}/${offset}`;
      if (!kafkaTimes.has(key)) {
        const m = await reader.readOne(topic, partition, BigInt(offset));
        if (!m) throw new Error(`${topic}[${partition}]@${offset}: no such message (retention or compaction removed it)`);
        kafkaTimes.set(key, new Date(Number(m.timestamp)));
      }
      return kafkaTimes.get(key)!;
    },
  };
  const deadline = Date.now() + waitS * 1000;
  let trace: Trace = await traceEvent(uuid, sources);
  while (trace.missing.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 500));
    trace = await traceEvent(uuid, sources);
  }
  const links = consoleLinks(consoleBaseUrl(endpoints), trace);
  if (args.values.json) {
    console.log(
      JSON.stringify({ ...trace, hops: trace.hops.map((h) => ({ ...h, at: h.at.toISOString(), lag_ms: lagMs(trace, h) ?? null })), console: links }, null, 2),
    );
  } else {
    console.log(formatTrace(trace));
    console.log(`\nin the console: ${links.trace}${links.kafka ? `\nKafka record:   ${links.kafka}` : ''}`);
  }
  if (trace.hops.length === 0) console.error(`✘ no event ${uuid} in PostgreSQL or ClickHouse`);
  exitCode = trace.missing.length > 0 ? 1 : 0;
} catch (err) {
  console.error(`✘ trace failed: ${(err as Error).message}`);
  exitCode = 1;
} finally {
  await Promise.allSettled([reader.disconnect(), telemetryDb.end(), ch.close()]);
}
process.exit(exitCode);
