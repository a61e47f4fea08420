/**
 * Kafka authentication on and off (issue 15): what SASL/SCRAM-SHA-512 costs a client
 * of the broker, as a ratio of the two measured in the same run on the same broker.
 *
 *   npm run bench:kafka-auth [-- --records 200000 --rounds 5 --warmup 1 --connects 200 --batch 1000 --reads 5 --json <file>]
 *
 * The broker. The stack's broker has no listener without SASL and must keep none, so
 * this script starts a throwaway single-node Kafka of its own: the stack's component
 * (scripts/stack/components/kafka.ts, the same jars from the stack's cache, the same
 * server.properties: SASL_PLAINTEXT listener, StandardAuthorizer, no ACL → denied,
 * super user admin, the same heap) in a temp dir, on loopback ports of its own, with one
 * listener added: PLAINTEXT (withPlaintextListener). It needs no running stack and
 * changes nothing of it; the broker is stopped and its directory removed at the end.
 * Ports: SASL 29092, controller 29093, PLAINTEXT 29094 (all 127.0.0.1).
 *
 * The arms. Authentication on: a client built by createKafka (@cdc/kafka), as every app
 * and script builds one, logging in with SCRAM-SHA-512 on the SASL listener as a
 * non-super principal (its SCRAM credential written by the stack's own writeScram, 8,192
 * iterations). Authentication off: a kafkajs client on the PLAINTEXT listener, whose
 * principal is User:ANONYMOUS. Both get the same ACLs (prefixed: the bench's topics,
 * read/write/describe; its groups, read), so the authorizer runs in both arms; the
 * clients differ only by `sasl` (same timeouts, retries, log level), so what differs is
 * authentication alone.
 *
 * The workload, identical in both arms, in rounds. Within a round the arms take turns
 * at every step, which goes first alternating with each step (and from round to round),
 * so a slow moment of the machine or the JIT still warming falls on both alike; every
 * figure is paired within its round, and the ratio reported is the median of the
 * rounds' on ÷ off (kafka-auth-support.ts). Warm-up rounds run the same, not counted.
 * - Connection set-up: a new admin client's connect (TCP, ApiVersions, and in the "on"
 *   arm the SASL handshake and SCRAM exchange) and its first metadata request, for one
 *   topic; `--connects` per arm and round, the arms taking turns connect by connect.
 *   Also the CPU each costs the client (this process) and the broker.
 * - Producer: `--records` Debezium-shaped JSON change events (crm.public.users updates,
 *   before and after, about 1 KB each, generated before any clock starts) to a new
 *   3-partition topic per arm, acks=-1, sent as kafkajs sends them: `--batch` records
 *   per send(), one send at a time, the two arms' producers taking turns send by send.
 *   An arm's time is the sum of its sends, send() to acknowledgement (the producer's
 *   connect is not in it: that is the connection figure).
 * - Consumer: `--reads` passes per arm, the arms taking turns pass by pass; a pass is
 *   a new consumer group reading the arm's topic from the beginning, timed from
 *   consumer.run() (group join, offsets, fetches) until the last record arrived; the
 *   round's figure is the median pass. Each pass must read back exactly the records
 *   and bytes produced.
 * The topics and groups are deleted at the end of each round.
 *
 * Progress on stderr, the report (markdown) on stdout; --json also writes every figure,
 * per round, to a file.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes, randomUUID } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import kafkajs, { Kafka, logLevel, type Admin, type KafkaConfig, type Message } from 'kafkajs';
import { loadDotEnv } from '@cdc/config';
import { createKafka } from '@cdc/kafka';
import { loadStackConfig, REPO_ROOT, type StackConfig } from '../stack/config.js';
import { KafkaBroker } from '../stack/components/kafka.js';
import { ensureKafkaLib } from '../stack/components/jvm.js';
import { writeScram } from '../stack/kafka-credentials.js';
import { portInUse } from '../stack/proc.js';
import { cpuSecondsOf } from './cpu.js';
import { armsInOrder, median, summarizePairs, withPlaintextListener, type Arm, type Pair, type PairedSummary } from './kafka-auth-support.js';
import { commandLine, loadAverage, machineDescription, parseOrExit, writeJson } from './results.js';
import { checkStop, fmt, now, percentile, runBench, say, secs, stopOnInterrupt, until } from './support.js';

const HOST = '127.0.0.1';
const SASL_PORT = 29092;
const CONTROLLER_PORT = 29093;
const PLAINTEXT_PORT = 29094;
const PARTITIONS = 3;
const TOPIC_PREFIX = 'bench.kafka-auth.';
const GROUP_PREFIX = 'bench-kafka-auth-';
const METADATA_TOPIC = `${TOPIC_PREFIX}metadata`;
/** The "on" arm's principal: not a super user, so its requests go through the ACLs. */
const BENCH_USER = 'kafka-auth-bench';
/** A record batch must stay under the broker's message.max.bytes (1 MiB by default). */
const MAX_BATCH_BYTES = 900_000;

const USAGE = `usage: npm run bench:kafka-auth -- [--records 200000] [--rounds 5] [--warmup 1] [--connects 200]
                                [--batch 1000] [--reads 5] [--json <file>]
Starts a throwaway Kafka (the stack's broker config plus a PLAINTEXT listener, on
127.0.0.1:${SASL_PORT}-${PLAINTEXT_PORT}, in a temp dir removed at the end; no running stack needed) and
measures producer and consumer throughput and connection set-up with authentication on
(SASL/SCRAM-SHA-512) and off (PLAINTEXT), the two taking turns, in paired rounds.
  --records   records produced and consumed per arm and round (~1 KB each)
  --rounds    counted rounds, each of both arms
  --warmup    rounds run first and not counted
  --connects  connection set-ups (connect + first metadata) per arm and round
  --batch     records per producer send()
  --reads     consumer-group passes over the records per arm and round
  --json      also write every figure, per round, to this file
The report goes to stdout, progress to stderr.`;

const { values: args } = parseOrExit(USAGE, () =>
  parseArgs({
    options: {
      records: { type: 'string', default: '200000' },
      rounds: { type: 'string', default: '5' },
      warmup: { type: 'string', default: '1' },
      connects: { type: 'string', default: '200' },
      batch: { type: 'string', default: '1000' },
      reads: { type: 'string', default: '5' },
      json: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  }),
);

function usageError(message: string): never {
  process.stderr.write(`${message}\n\n${USAGE}\n`);
  process.exit(2);
}
const integer = (name: string, min: number): number => {
  const raw = args[name as keyof typeof args] as string;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) usageError(`--${name}: an integer ≥ ${min}, not ${JSON.stringify(raw)}`);
  return n;
};
const N = integer('records', 1);
const ROUNDS = integer('rounds', 1);
const WARMUP = integer('warmup', 0);
const CONNECTS = integer('connects', 1);
const BATCH = integer('batch', 1);
const READS = integer('reads', 1);
// kafkajs puts a send's records for one partition into one record batch.
if (((BATCH / PARTITIONS) * changeEvent(0).value.length) > MAX_BATCH_BYTES) {
  usageError(`--batch ${BATCH}: a partition's share of one send would exceed ${fmt(MAX_BATCH_BYTES)} bytes`);
}

// KAFKA_HEAP, STACK_DIR, STACK_CACHE_DIR and JAVA_HOME as the user's stack has them.
loadDotEnv(path.join(REPO_ROOT, '.env'));

// ---------------------------------------------------------------- the records

/** A Debezium update event of crm.public.users as the CRM connector writes it (JSON, no schema). */
function changeEvent(i: number): { key: Buffer; value: Buffer } {
  const id = 1_000_000 + i;
  const ts = 1_796_000_000_000 + i;
  const lsn = 36_000_000_000 + i * 512;
  const row = (version: number) => ({
    id,
    user_uuid: `00000000-0000-4000-8000-${id.toString(16).padStart(12, '0')}`,
    name: `Bench User ${id}`,
    email: `bench.user.${id}@example.com`,
    age: 20 + (i % 60),
    gender: ['female', 'male', 'other'][i % 3],
    country: ['Germany', 'Portugal', 'Canada', 'Japan', 'Kenya'][i % 5],
    address: `${100 + (i % 900)} ${version ? 'Harbour View' : 'Old Mill'} Road, Apartment ${i % 97}, District ${i % 13}, Postal Code ${10_000 + (i % 89_999)}`,
    phone: `+49 30 ${String(1_000_000 + (i % 8_999_999)).padStart(8, '0')}`,
    registered_at: new Date(1_700_000_000_000 + i * 1000).toISOString(),
  });
  const value = {
    before: row(0),
    after: row(1),
    source: {
      version: '3.6.3.Final',
      connector: 'postgresql',
      name: 'crm',
      ts_ms: ts,
      snapshot: 'false',
      db: 'crm_db',
      sequence: `["${lsn - 512}","${lsn}"]`,
      ts_us: ts * 1000,
      ts_ns: ts * 1_000_000,
      schema: 'public',
      table: 'users',
      txId: 900_000 + i,
      lsn,
      xmin: null,
    },
    transaction: null,
    op: 'u',
    ts_ms: ts + 3,
    ts_us: (ts + 3) * 1000,
    ts_ns: (ts + 3) * 1_000_000,
  };
  return { key: Buffer.from(JSON.stringify({ id })), value: Buffer.from(JSON.stringify(value)) };
}

interface Workload {
  batches: Message[][];
  /** What the consumer must read back: the values' bytes, summed. */
  valueBytes: number;
}

function generate(): Workload {
  const batches: Message[][] = [];
  let valueBytes = 0;
  for (let i = 0; i < N; i += BATCH) {
    const batch: Message[] = [];
    for (let j = i; j < Math.min(N, i + BATCH); j++) {
      const { key, value } = changeEvent(j);
      valueBytes += value.length;
      batch.push({ key, value, partition: j % PARTITIONS });
    }
    batches.push(batch);
  }
  return { batches, valueBytes };
}

// ---------------------------------------------------------------- the broker

/**
 * A stack configuration whose state directory is `stateDir` and whose broker listens on
 * the bench's ports, with passwords of its own. Only its Kafka part is used: the
 * database URLs and ClickHouse passwords are placeholders the schema requires.
 */
function benchStackConfig(stateDir: string): StackConfig {
  const secret = () => randomBytes(24).toString('base64url');
  const placeholders = {
    CRM_DATABASE_URL: 'postgresql://unused@127.0.0.1:1/unused',
    TELEMETRY_DATABASE_URL: 'postgresql://unused@127.0.0.1:1/unused',
    CLICKHOUSE_PASSWORD: 'unused',
    CLICKHOUSE_ANALYST_PASSWORD: 'unused',
    KAFKA_PASSWORD: secret(),
    KAFKA_CONNECT_PASSWORD: secret(),
    KAFKA_CLICKHOUSE_PASSWORD: secret(),
    KAFKA_PROCESSOR_PASSWORD: secret(),
    KAFKA_CONSOLE_PASSWORD: secret(),
    KAFKA_ERASER_PASSWORD: secret(),
    KAFKA_HEAP: process.env.KAFKA_HEAP,
    STACK_WAIT_KAFKA_S: process.env.STACK_WAIT_KAFKA_S,
  };
  // The jars come from the user's stack cache (downloaded there by the first `npm run up`).
  const cacheDir = loadStackConfig({ ...placeholders, STACK_DIR: process.env.STACK_DIR, STACK_CACHE_DIR: process.env.STACK_CACHE_DIR }).cacheDir;
  return loadStackConfig({
    ...placeholders,
    STACK_DIR: stateDir,
    STACK_CACHE_DIR: cacheDir,
    KAFKA_BROKERS: `${HOST}:${SASL_PORT}`,
    KAFKA_CONTROLLER_PORT: String(CONTROLLER_PORT),
    KAFKA_USER: 'admin',
  });
}

let tempDir: string | undefined;
let broker: KafkaBroker | undefined;

// A second Ctrl-C leaves at once: the broker (in its own session) must not outlive us.
process.on('exit', () => {
  const pid = broker?.pid();
  if (pid !== undefined) process.kill(pid, 'SIGKILL');
  if (tempDir) rmSync(tempDir, { recursive: true, force: true });
});

interface Started {
  config: StackConfig;
  kafkaVersion: string;
  benchPassword: string;
}

async function startBroker(): Promise<Started> {
  for (const port of [SASL_PORT, CONTROLLER_PORT, PLAINTEXT_PORT]) {
    if (await portInUse(HOST, port)) throw new Error(`${HOST}:${port} is taken: the bench's broker needs ports ${SASL_PORT}-${PLAINTEXT_PORT}`);
  }
  tempDir = mkdtempSync(path.join(os.tmpdir(), 'cdc-bench-kafka-auth-'));
  const config = benchStackConfig(tempDir);
  broker = new KafkaBroker(config);
  say(`bench broker in ${tempDir}: formatting the storage …`);
  await broker.install();
  const props = path.join(config.kafka.dir, 'server.properties');
  writeFileSync(props, withPlaintextListener(readFileSync(props, 'utf8'), HOST, PLAINTEXT_PORT));
  say(`starting it (SASL_PLAINTEXT ${HOST}:${SASL_PORT}, PLAINTEXT ${HOST}:${PLAINTEXT_PORT}) …`);
  await broker.start();
  const libDir = await ensureKafkaLib(config);
  const kafkaVersion = readdirSync(libDir).map((f) => /^kafka_2\.13-(.+)\.jar$/.exec(f)?.[1]).find(Boolean) ?? '?';
  const benchPassword = randomBytes(24).toString('base64url');
  say(`writing the SCRAM-SHA-512 credential of ${BENCH_USER} …`);
  await writeScram(config, libDir, `${HOST}:${SASL_PORT}`, { user: BENCH_USER, password: benchPassword });
  return { config, kafkaVersion, benchPassword };
}

/** The bench's topics and groups, for the "on" principal and for ANONYMOUS alike. */
function grants(): Parameters<Admin['createAcls']>[0]['acl'] {
  const { AclResourceTypes, AclOperationTypes, ResourcePatternTypes, AclPermissionTypes } = kafkajs;
  const allow = (principal: string, resourceType: number, resourceName: string, operation: number) => ({
    principal,
    resourceType,
    resourceName,
    resourcePatternType: ResourcePatternTypes.PREFIXED,
    host: '*',
    operation,
    permissionType: AclPermissionTypes.ALLOW,
  });
  return [`User:${BENCH_USER}`, 'User:ANONYMOUS'].flatMap((p) => [
    ...[AclOperationTypes.READ, AclOperationTypes.WRITE, AclOperationTypes.DESCRIBE].map((op) => allow(p, AclResourceTypes.TOPIC, TOPIC_PREFIX, op)),
    allow(p, AclResourceTypes.GROUP, GROUP_PREFIX, AclOperationTypes.READ),
  ]);
}

/**
 * The first group join on a new broker creates __consumer_offsets, whose coordinator
 * answers "loading" for a moment (GROUP_LOAD_IN_PROGRESS): done once here, with
 * patience, before any clock, so no arm's first consumer pays for it or fails on it.
 */
async function loadGroupCoordinator(kafka: Kafka): Promise<void> {
  const consumer = kafka.consumer({ groupId: `${GROUP_PREFIX}coordinator`, allowAutoTopicCreation: false, retry: { retries: 10 } });
  let joined = false;
  consumer.on(consumer.events.GROUP_JOIN, () => (joined = true));
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: METADATA_TOPIC });
    await consumer.run({ eachMessage: async () => {} });
    await until('the group coordinator to take a consumer group', 120_000, 100, async () => (joined ? true : undefined));
  } finally {
    await consumer.disconnect();
  }
}

// ---------------------------------------------------------------- the arms

/** The same for both arms: only `sasl` (and so the listener) differs. */
const TUNING: Pick<KafkaConfig, 'connectionTimeout' | 'requestTimeout' | 'retry'> = {
  connectionTimeout: 3_000,
  requestTimeout: 30_000,
  retry: { retries: 2, initialRetryTime: 200 },
};

function armClients(benchPassword: string): Record<Arm, Kafka> {
  return {
    on: createKafka(
      { brokers: [`${HOST}:${SASL_PORT}`], user: BENCH_USER, password: benchPassword, logLevel: 'silent', tuning: TUNING },
      'bench-kafka-auth-on',
    ),
    off: new Kafka({ clientId: 'bench-kafka-auth-off', brokers: [`${HOST}:${PLAINTEXT_PORT}`], ...TUNING, logLevel: logLevel.NOTHING }),
  };
}

async function connectOnce(kafka: Kafka): Promise<number> {
  const admin = kafka.admin();
  const t0 = now();
  try {
    await admin.connect();
    await admin.fetchTopicMetadata({ topics: [METADATA_TOPIC] });
    return now() - t0;
  } finally {
    await admin.disconnect();
  }
}

/**
 * Both arms' producers, taking turns send by send (which arm goes first alternates with
 * every batch): each arm's time is the sum of its own sends, send() to acknowledgement,
 * so a slow moment of the machine falls on both arms alike.
 */
async function produce(clients: Record<Arm, Kafka>, topics: Record<Arm, string>, round: number, w: Workload): Promise<Record<Arm, number>> {
  const producers = { on: clients.on.producer({ allowAutoTopicCreation: false }), off: clients.off.producer({ allowAutoTopicCreation: false }) };
  try {
    for (const arm of ARMS) await producers[arm].connect();
    const ms = { on: 0, off: 0 };
    for (const [b, messages] of w.batches.entries()) {
      checkStop();
      for (const arm of armsInOrder(round + b)) {
        const t0 = now();
        await producers[arm].send({ topic: topics[arm], acks: -1, messages });
        ms[arm] += now() - t0;
      }
    }
    return ms;
  } finally {
    for (const arm of ARMS) await producers[arm].disconnect();
  }
}

/** One pass of a new consumer group over `topic`: consumer.run() until the last record arrived. */
async function consume(kafka: Kafka, topic: string, groupId: string, w: Workload): Promise<number> {
  const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false });
  let records = 0;
  let bytes = 0;
  let t1: number | undefined;
  let crashed: Error | undefined;
  consumer.on(consumer.events.CRASH, (e) => (crashed = e.payload.error));
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    const t0 = now();
    await consumer.run({
      eachBatch: async ({ batch }) => {
        records += batch.messages.length;
        for (const m of batch.messages) bytes += m.value?.length ?? 0;
        if (records >= N && t1 === undefined) t1 = now();
      },
    });
    await until(`the consumer to read ${fmt(N)} records`, 600_000, 20, async () => {
      if (crashed) throw crashed;
      return t1;
    });
    if (records !== N || bytes !== w.valueBytes) {
      throw new Error(`the consumer read ${records} records (${bytes} bytes), the producer sent ${N} (${w.valueBytes} bytes)`);
    }
    return t1! - t0;
  } finally {
    await consumer.disconnect();
  }
}

// ---------------------------------------------------------------- rounds

const rate = (ms: number) => N / (ms / 1000);

const ARMS: Arm[] = ['on', 'off'];

interface RoundFigures {
  round: number;
  connectMs: Record<Arm, number[]>;
  /** CPU milliseconds of all the round's connection set-ups (and disconnects), per side. */
  connectCpuMs: Record<Arm, { client: number; broker: number }>;
  /** The sum of the arm's send() durations. */
  produceMs: Record<Arm, number>;
  /** Each consumer pass's duration. */
  consumeMs: Record<Arm, number[]>;
}

/**
 * One round: both arms, taking turns at every step (connect by connect, send by send,
 * pass by pass), which goes first alternating with each step and from round to round.
 */
async function runRound(round: number, label: string, clients: Record<Arm, Kafka>, setup: Admin, w: Workload): Promise<RoundFigures> {
  say(`${label} …`);
  const connectMs: Record<Arm, number[]> = { on: [], off: [] };
  const connectCpuMs = { on: { client: 0, broker: 0 }, off: { client: 0, broker: 0 } };
  const brokerPid = broker!.pid();
  if (brokerPid === undefined) throw new Error("the bench's broker is not running");
  for (let i = 0; i < CONNECTS; i++) {
    checkStop();
    for (const arm of armsInOrder(round + i)) {
      // The broker's reads outside the client's: reading /proc is not the client's work.
      const broker0 = cpuSecondsOf(brokerPid)!;
      const client0 = process.cpuUsage();
      connectMs[arm].push(await connectOnce(clients[arm]));
      const client = process.cpuUsage(client0);
      const broker1 = cpuSecondsOf(brokerPid)!;
      connectCpuMs[arm].client += (client.user + client.system) / 1000;
      connectCpuMs[arm].broker += (broker1 - broker0) * 1000;
    }
  }
  const cpu = (arm: Arm) => `${fmt(connectCpuMs[arm].client / CONNECTS, 2)} + ${fmt(connectCpuMs[arm].broker / CONNECTS, 2)} ms CPU`;
  say(
    `  connection set-up, median: on ${fmt(percentile(connectMs.on, 50), 2)} ms (${cpu('on')}), ` +
      `off ${fmt(percentile(connectMs.off, 50), 2)} ms (${cpu('off')}) (client + broker)`,
  );

  const id = `${label.replace(/\s+/g, '-')}.${randomUUID().slice(0, 8)}`;
  const topics = { on: `${TOPIC_PREFIX}${id}.on`, off: `${TOPIC_PREFIX}${id}.off` };
  const groups: string[] = [];
  await setup.createTopics({ topics: ARMS.map((a) => ({ topic: topics[a], numPartitions: PARTITIONS, replicationFactor: 1 })), waitForLeaders: true });
  try {
    const produceMs = await produce(clients, topics, round, w);
    say(`  producers: on ${fmt(rate(produceMs.on))} records/s, off ${fmt(rate(produceMs.off))} records/s`);
    const consumeMs: Record<Arm, number[]> = { on: [], off: [] };
    for (let k = 0; k < READS; k++) {
      for (const arm of armsInOrder(round + k)) {
        const groupId = `${GROUP_PREFIX}${id}.${arm}.${k}`;
        groups.push(groupId);
        consumeMs[arm].push(await consume(clients[arm], topics[arm], groupId, w));
      }
    }
    say(`  consumer groups: on ${consumeMs.on.map((ms) => fmt(rate(ms))).join(', ')} records/s; off ${consumeMs.off.map((ms) => fmt(rate(ms))).join(', ')} records/s`);
    return { round, connectMs, connectCpuMs, produceMs, consumeMs };
  } finally {
    if (groups.length > 0) await setup.deleteGroups(groups).catch(() => {});
    await setup.deleteTopics({ topics: ARMS.map((a) => topics[a]) });
  }
}

// ---------------------------------------------------------------- report

interface Figure {
  id: string;
  label: string;
  unit: string;
  better: 'higher' | 'lower';
  /** Undefined when a round has no ratio (a CPU figure of zero ticks: too few connects). */
  summary: PairedSummary | undefined;
  pairs: Pair[];
}


function figures(rounds: RoundFigures[]): Figure[] {
  const figure = (id: string, label: string, unit: string, better: Figure['better'], pairOf: (r: RoundFigures) => Pair): Figure => {
    const pairs = rounds.map(pairOf);
    let summary: PairedSummary | undefined;
    try {
      summary = summarizePairs(pairs);
    } catch {
      summary = undefined;
    }
    return { id, label, unit, better, pairs, summary };
  };
  const perConnect = (ms: number) => ms / CONNECTS;
  return [
    figure('producer', 'producer throughput', 'records/s', 'higher', (r) => ({ on: rate(r.produceMs.on), off: rate(r.produceMs.off) })),
    figure('consumer', 'consumer group throughput', 'records/s', 'higher', (r) => ({
      on: rate(median(r.consumeMs.on)),
      off: rate(median(r.consumeMs.off)),
    })),
    figure('connect_p50', 'connection set-up (connect + first metadata), median', 'ms', 'lower', (r) => ({
      on: percentile(r.connectMs.on, 50),
      off: percentile(r.connectMs.off, 50),
    })),
    figure('connect_p99', 'connection set-up, p99', 'ms', 'lower', (r) => ({
      on: percentile(r.connectMs.on, 99),
      off: percentile(r.connectMs.off, 99),
    })),
    figure('connect_cpu_client', 'client CPU per connection (set-up and disconnect)', 'ms', 'lower', (r) => ({
      on: perConnect(r.connectCpuMs.on.client),
      off: perConnect(r.connectCpuMs.off.client),
    })),
    figure('connect_cpu_broker', 'broker CPU per connection (set-up and disconnect)', 'ms', 'lower', (r) => ({
      on: perConnect(r.connectCpuMs.on.broker),
      off: perConnect(r.connectCpuMs.off.broker),
    })),
  ];
}

const value = (x: number, unit: string) => (unit === 'ms' ? fmt(x, 2) : fmt(x));

function markdown(fs: Figure[], w: Workload, started: Started, startedAt: string, loadAtStart: string): string {
  const mib = (records: number) => (records * (w.valueBytes / N)) / 2 ** 20;
  const lines = [
    '### Kafka authentication on and off',
    '',
    `Date: ${startedAt}. Machine: ${machineDescription()}, load average at the start ${loadAtStart}, at the end ${loadAverage()}. ` +
      `Kafka ${started.kafkaVersion} (the stack's broker config, heap ${started.config.env.KAFKA_HEAP}, plus a PLAINTEXT listener), ` +
      'started by the bench on loopback; the broker and the bench share the machine.',
    '',
    `Workload per arm and round: ${fmt(CONNECTS)} connection set-ups (admin connect + first metadata request); ` +
      `${fmt(N)} records of ${fmt(w.valueBytes / N)} bytes (Debezium update events, JSON) to a new ${PARTITIONS}-partition topic, ` +
      `acks=-1, ${fmt(BATCH)} records per send(), one at a time; ${READS} pass(es) of a new consumer group reading them back ` +
      `(the median pass counts). The arms take turns connect by connect, send by send and pass by pass, which goes first ` +
      `alternating. ${ROUNDS} counted round(s) after ${WARMUP} warm-up round(s).`,
    '',
    '| figure | auth on: SASL/SCRAM-SHA-512 | auth off: PLAINTEXT | on ÷ off (median of rounds) | per round, on ÷ off |',
    '|---|---:|---:|---:|---|',
    ...fs.map((f) => {
      const extra = f.unit === 'records/s' ? (x: number) => ` (${fmt(mib(x), 1)} MiB/s)` : () => '';
      if (!f.summary) {
        const arm = (a: Arm) => f.pairs.map((p) => value(p[a], f.unit)).join(' · ');
        return `| ${f.label} (${f.unit}) | ${arm('on')} | ${arm('off')} | n/a: a round measured 0 | |`;
      }
      return (
        `| ${f.label} (${f.unit}) | **${value(f.summary.on, f.unit)}**${extra(f.summary.on)} | **${value(f.summary.off, f.unit)}**${extra(f.summary.off)} | ` +
        `**${fmt(f.summary.ratio, 2)}** | ${f.summary.ratios.map((r) => fmt(r, 2)).join(' · ')} |`
      );
    }),
    '',
    "Each arm's figure is its median over the rounds; on ÷ off is the median of the rounds' own ratios. For a rate, " +
      'below 1 means slower with authentication; for a time or CPU, above 1 means more. CPU: user + system time of this ' +
      "process (the client, getrusage) and of the broker's JVM (/proc, 10 ms ticks), summed over a round's connections " +
      'and divided by their number; the disconnect is in it, outside the set-up time.',
  ];
  return lines.join('\n');
}

// ---------------------------------------------------------------- main

stopOnInterrupt();
let setupAdmin: Admin | undefined;

async function main(): Promise<void> {
  const startedAt = new Date().toISOString();
  const loadAtStart = loadAverage();
  say(`generating ${fmt(N)} records …`);
  const w = generate();
  const started = await startBroker();
  const adminLogin = { user: started.config.env.KAFKA_USER, password: started.config.env.KAFKA_PASSWORD };
  // Set-up only (topics, ACLs): the super user's PLAIN login, as the stack's own bootstrap does.
  const setupKafka = new Kafka({
    clientId: 'bench-kafka-auth-setup',
    brokers: [`${HOST}:${SASL_PORT}`],
    sasl: { mechanism: 'plain', username: adminLogin.user, password: adminLogin.password },
    ...TUNING,
    logLevel: logLevel.NOTHING,
  });
  setupAdmin = setupKafka.admin();
  await setupAdmin.connect();
  await setupAdmin.createAcls({ acl: grants() });
  await setupAdmin.createTopics({ topics: [{ topic: METADATA_TOPIC, numPartitions: PARTITIONS, replicationFactor: 1 }], waitForLeaders: true });
  await loadGroupCoordinator(setupKafka);
  const clients = armClients(started.benchPassword);

  for (let i = 1; i <= WARMUP; i++) await runRound(i, `warm-up ${i}`, clients, setupAdmin, w);
  const rounds: RoundFigures[] = [];
  for (let i = 1; i <= ROUNDS; i++) rounds.push(await runRound(i, `round ${i}`, clients, setupAdmin, w));

  const fs = figures(rounds);
  console.log(markdown(fs, w, started, startedAt, loadAtStart));

  if (args.json === undefined) return;
  writeJson(args.json, {
    bench: 'kafka-auth',
    startedAt,
    finishedAt: new Date().toISOString(),
    machine: machineDescription(),
    command: commandLine('kafka-auth'),
    kafka: started.kafkaVersion,
    arms: {
      on: `SASL_PLAINTEXT ${HOST}:${SASL_PORT}, SCRAM-SHA-512 as User:${BENCH_USER} (createKafka)`,
      off: `PLAINTEXT ${HOST}:${PLAINTEXT_PORT}, User:ANONYMOUS`,
    },
    settings: {
      records: N,
      recordBytes: Math.round(w.valueBytes / N),
      rounds: ROUNDS,
      warmup: WARMUP,
      connects: CONNECTS,
      batch: BATCH,
      reads: READS,
      partitions: PARTITIONS,
      acks: -1,
      kafkaHeap: started.config.env.KAFKA_HEAP,
    },
    metrics: fs.map((f) => ({
      id: `kafka_auth.${f.id}`,
      label: f.label,
      unit: f.unit,
      better: f.better,
      on: f.summary?.on ?? null,
      off: f.summary?.off ?? null,
      ratio: f.summary?.ratio ?? null,
      ratioMin: f.summary?.min ?? null,
      ratioMax: f.summary?.max ?? null,
      rounds: f.pairs.map((p, i) => ({ round: i + 1, on: p.on, off: p.off, ratio: f.summary?.ratios[i] ?? null })),
    })),
    notes: [`load average at the start ${loadAtStart}, at the end ${loadAverage()}`],
  });
  say(`figures written to ${args.json}`);
}

await runBench(
  main,
  [
    {
      name: 'disconnecting the set-up client',
      run: async () => {
        await setupAdmin?.disconnect();
      },
    },
    {
      name: "stopping the bench's broker",
      run: async () => {
        if (!broker) return;
        say("stopping the bench's broker …");
        const how = await broker.stop();
        if (how === 'killed') say('  it did not stop within 60 s and was killed');
      },
    },
    {
      name: 'removing the temp dir',
      run: async () => {
        if (!tempDir) return;
        rmSync(tempDir, { recursive: true, force: true });
        tempDir = undefined;
      },
    },
  ],
  async () => {},
);
