/**
 * The console on a big topic, against the running stack (`npm run up` first):
 *
 *   npm run bench:console [-- --messages 1000000 --scan 100000 --runs 5 --keep-topic]
 *
 * Creates a 3-partition topic of Debezium-shaped JSON change events, starts its own
 * console process (with the stack's heap limit) and measures:
 *  - the first page of messages (all partitions, newest 50; one partition; a page in
 *    the middle of the topic), cold and warm;
 *  - a field filter over the newest `--scan` messages (progress events counted, the
 *    matches checked against what was produced), against the same scan by a kafkajs
 *    consumer group with JSON.parse (what `kafka:tail` + jq did): the peer;
 *  - the console's peak resident memory through all of it.
 * Progress on stderr, the report (markdown; --json for JSON) on stdout.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { SingleBar } from 'cli-progress';
import { loadDotEnv, loadEndpoints } from '@cdc/config';
import { createKafka, kafkaAccess } from '@cdc/kafka';
import { freePort } from '../lib/net.js';
import { CONSOLE_HEAP } from '../stack/stack.js';
import { checkStop, fmt, now, percentile, runBench, say, stopOnInterrupt, until } from './support.js';

const USAGE = `usage: npm run bench:console -- [--messages N] [--scan N] [--runs N] [--keep-topic] [--json]
  --messages    messages in the topic (default 1000000)
  --scan        messages the field filter scans, newest first (default 100000)
  --runs        repetitions of each measurement (default 5)
  --keep-topic  leave the topic for another run (reused when it has the messages)
  --json        the report as JSON`;

function usageError(message: string): never {
  console.error(`${message}\n${USAGE}`);
  process.exit(2);
}

let args;
try {
  args = parseArgs({
    options: {
      messages: { type: 'string', default: '1000000' },
      scan: { type: 'string', default: '100000' },
      runs: { type: 'string', default: '5' },
      'keep-topic': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  }).values;
} catch (e) {
  usageError((e as Error).message);
}
if (args.help) {
  console.log(USAGE);
  process.exit(0);
}
const count = (name: string, v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) usageError(`--${name} expects a positive integer, got '${v}'`);
  return n;
};
const MESSAGES = count('messages', args.messages!);
const SCAN = count('scan', args.scan!);
const RUNS = count('runs', args.runs!);
if (SCAN > MESSAGES) usageError('--scan cannot exceed --messages');

loadDotEnv();
const env = loadEndpoints();
const ROOT = path.resolve(import.meta.dirname, '../..');
const TOPIC = `bench.console.m${MESSAGES}`;
const PARTITIONS = 3;
/** One message in this many is the user the field filter looks for. */
const EVERY = 1_000;
const TARGET_USER = 922;
const kafka = createKafka({ ...kafkaAccess(env), logLevel: 'silent' }, 'bench-console');
const admin = kafka.admin();
let consoleProc: ChildProcess | undefined;

/** A Debezium create event as the telemetry connector writes it (JSON converter, no schema). */
function changeEvent(i: number): string {
  const userId = i % EVERY === 0 ? TARGET_USER : 1_000 + (i % 50_000);
  return JSON.stringify({
    before: null,
    after: {
      id: i,
      event_uuid: randomUUID(),
      user_id: userId,
      prosthesis_type: 'myoelectric_hand',
      muscle_group: 'forearm_flexors',
      signal_frequency: 1000,
      signal_duration: 250,
      signal_amplitude: (i % 997) / 997,
      event_timestamp: new Date(1_796_000_000_000 + i).toISOString(),
    },
    source: { connector: 'postgresql', name: 'telemetry', db: 'telemetry_db', schema: 'public', table: 'telemetry_events', lsn: 26_000_000 + i, txId: i },
    op: 'c',
    ts_ms: 1_796_000_000_000 + i,
  });
}

async function ensureTopic(): Promise<void> {
  if ((await admin.listTopics()).includes(TOPIC)) {
    const n = (await admin.fetchTopicOffsets(TOPIC)).reduce((s, o) => s + Number(o.high), 0);
    if (n === MESSAGES) {
      say(`reusing ${TOPIC} (${fmt(n)} messages)`);
      return;
    }
    await admin.deleteTopics({ topics: [TOPIC] });
    await until('the old topic to go', 30_000, 500, async () => ((await admin.listTopics()).includes(TOPIC) ? undefined : true));
  }
  await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: PARTITIONS, replicationFactor: 1 }], waitForLeaders: true });
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const bar = new SingleBar({ format: `producing ${TOPIC} [{bar}] {value}/{total} {eta}s`, stream: process.stderr });
  bar.start(MESSAGES, 0);
  const t0 = now();
  const BATCH = 5_000;
  for (let i = 0; i < MESSAGES; i += BATCH) {
    checkStop();
    const messages = [];
    for (let j = i; j < Math.min(MESSAGES, i + BATCH); j++) messages.push({ key: JSON.stringify({ id: j }), value: changeEvent(j), partition: j % PARTITIONS });
    await producer.send({ topic: TOPIC, messages });
    bar.update(Math.min(MESSAGES, i + BATCH));
  }
  bar.stop();
  await producer.disconnect();
  say(`produced ${fmt(MESSAGES)} messages in ${fmt((now() - t0) / 1000, 1)} s`);
}

async function startConsole(): Promise<{ url: string; pid: number }> {
  const port = await freePort();
  consoleProc = spawn(process.execPath, [CONSOLE_HEAP, '--import', 'tsx', 'apps/console/src/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, CONSOLE_PORT: String(port), LOG_LEVEL: 'warn', CONSOLE_TOKEN: '' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  await until('the console to answer', 30_000, 200, async () => ((await fetch(`${url}/health`).catch(() => undefined))?.ok ? true : undefined));
  return { url, pid: consoleProc.pid! };
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = now();
  await fn();
  return now() - t0;
}

async function getJson(url: string): Promise<unknown> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url} → ${res.status}: ${await res.text()}`);
  return res.json();
}

/** A search to its end: time to `done`, progress events seen, matches. */
async function search(url: string): Promise<{ ms: number; progress: number; matched: number; scanned: number }> {
  const t0 = now();
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url} → ${res.status}`);
  let text = '';
  for await (const chunk of res.body!) text += Buffer.from(chunk as Uint8Array).toString();
  const events = text.split('\n\n').filter(Boolean);
  const progress = events.filter((e) => e.startsWith('event: progress')).length;
  const done = events.find((e) => e.startsWith('event: done'));
  if (!done) throw new Error(`search ended without done: ${text.slice(-300)}`);
  const d = JSON.parse(done.split('\n').find((l) => l.startsWith('data: '))!.slice(6)) as { matched: number; scanned: number };
  return { ms: now() - t0, progress, matched: d.matched, scanned: d.scanned };
}

/** The peer: a consumer group reading the newest `SCAN` messages and parsing each, as `kafka:tail | jq` does. */
async function peerScan(): Promise<{ ms: number; matched: number }> {
  const offsets = await admin.fetchTopicOffsets(TOPIC);
  const per = Math.ceil(SCAN / PARTITIONS);
  const want = new Map(offsets.map((o) => [o.partition, { from: BigInt(Math.max(Number(o.low), Number(o.high) - per)), high: BigInt(o.high) }]));
  const groupId = `bench-console-peer-${randomUUID()}`;
  const consumer = kafka.consumer({ groupId, maxBytes: 8 << 20 });
  const t0 = now();
  let matched = 0;
  const left = new Set(want.keys());
  await consumer.connect();
  await consumer.subscribe({ topic: TOPIC });
  let finished!: () => void;
  const done = new Promise<void>((r) => (finished = r));
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      const w = want.get(batch.partition)!;
      for (const m of batch.messages) {
        if (BigInt(m.offset) < w.from) continue;
        const v = JSON.parse(m.value!.toString()) as { after?: { user_id?: number } };
        if (v.after?.user_id === TARGET_USER) matched++;
        if (BigInt(m.offset) === w.high - 1n) {
          left.delete(batch.partition);
          if (left.size === 0) finished();
        }
      }
    },
  });
  for (const [partition, w] of want) consumer.seek({ topic: TOPIC, partition, offset: w.from.toString() });
  await done;
  const ms = now() - t0;
  await consumer.disconnect();
  await admin.deleteGroups([groupId]).catch(() => {});
  return { ms, matched };
}

/** Messages of the target user among the newest `per` of each partition: what the scan must find. */
function expectedMatches(highs: number[]): number {
  const per = Math.ceil(SCAN / PARTITIONS);
  let n = 0;
  highs.forEach((high, p) => {
    // Message i went to partition i % PARTITIONS at offset floor(i / PARTITIONS).
    for (let off = Math.max(0, high - per); off < high; off++) if ((off * PARTITIONS + p) % EVERY === 0) n++;
  });
  return n;
}

const report: Record<string, unknown> = {};

async function main(): Promise<void> {
  stopOnInterrupt();
  await admin.connect();
  await ensureTopic();
  const { url, pid } = await startConsole();
  let peakRss = rssMb(pid);
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, rssMb(pid))), 50);
  try {
    const api = `${url}/api/topics/${TOPIC}`;
    const cold = await timed(() => getJson(`${api}/messages?limit=50`));
    const warm: number[] = [];
    const onePartition: number[] = [];
    const middle: number[] = [];
    const mid = Math.floor(MESSAGES / PARTITIONS / 2);
    for (let i = 0; i < RUNS; i++) {
      warm.push(await timed(() => getJson(`${api}/messages?limit=50`)));
      onePartition.push(await timed(() => getJson(`${api}/messages?limit=50&partition=1`)));
      middle.push(await timed(() => getJson(`${api}/messages?limit=50&partition=2&offset=${mid}`)));
    }
    say(`first page: cold ${fmt(cold)} ms, warm median ${fmt(percentile(warm, 50))} ms`);

    const highs = (await admin.fetchTopicOffsets(TOPIC)).sort((a, b) => a.partition - b.partition).map((o) => Number(o.high));
    const expected = expectedMatches(highs);
    const field = encodeURIComponent(`after.user_id = ${TARGET_USER}`);
    const searches = [];
    const peers = [];
    for (let i = 0; i < Math.min(RUNS, 3); i++) {
      const s = await search(`${api}/search?field=${field}&scan=${SCAN}&limit=500`);
      if (s.matched !== Math.min(expected, 500)) throw new Error(`the search matched ${s.matched}, expected ${expected}`);
      searches.push(s);
      say(`field filter over ${fmt(s.scanned)} messages: ${fmt(s.ms)} ms, ${s.progress} progress events, ${s.matched} matches`);
      const p = await peerScan();
      if (p.matched !== expected) throw new Error(`the peer matched ${p.matched}, expected ${expected}`);
      peers.push(p);
      say(`peer (consumer group + JSON.parse) over the same messages: ${fmt(p.ms)} ms`);
    }
    const searchMs = percentile(searches.map((s) => s.ms), 50);
    const peerMs = percentile(peers.map((p) => p.ms), 50);
    Object.assign(report, {
      date: new Date().toISOString(),
      machine: `${(await import('node:os')).cpus().length} vCPU, ${fmt((await import('node:os')).totalmem() / 2 ** 30)} GiB`,
      topic: { messages: MESSAGES, partitions: PARTITIONS },
      firstPage: { coldMs: Math.round(cold), warmMedianMs: Math.round(percentile(warm, 50)), warmMaxMs: Math.round(Math.max(...warm)) },
      onePartitionPageMedianMs: Math.round(percentile(onePartition, 50)),
      middlePageMedianMs: Math.round(percentile(middle, 50)),
      fieldFilter: {
        scanned: searches[0]!.scanned,
        matches: searches[0]!.matched,
        medianMs: Math.round(searchMs),
        progressEvents: Math.min(...searches.map((s) => s.progress)),
        peerMedianMs: Math.round(peerMs),
        peerOverConsole: Number((peerMs / searchMs).toFixed(2)),
      },
      peakRssMb: Math.round(peakRss),
    });
  } finally {
    clearInterval(sampler);
  }
}

function markdown(r: Record<string, any>): string {
  return [
    `| measure | result | target |`,
    `|---|---:|---:|`,
    `| first page, all ${r.topic.partitions} partitions of ${fmt(r.topic.messages)} messages (cold) | ${fmt(r.firstPage.coldMs)} ms | < 1,000 ms |`,
    `| first page, warm (median / max of ${RUNS}) | ${fmt(r.firstPage.warmMedianMs)} / ${fmt(r.firstPage.warmMaxMs)} ms | < 1,000 ms |`,
    `| one partition's newest page (median) | ${fmt(r.onePartitionPageMedianMs)} ms | |`,
    `| a page in the middle of a partition (median) | ${fmt(r.middlePageMedianMs)} ms | |`,
    `| field filter over ${fmt(r.fieldFilter.scanned)} messages (median) | ${fmt(r.fieldFilter.medianMs)} ms, ${r.fieldFilter.matches} matches, ≥ ${r.fieldFilter.progressEvents} progress events | < 10,000 ms, with progress |`,
    `| peer: consumer group + JSON.parse over the same messages (median) | ${fmt(r.fieldFilter.peerMedianMs)} ms (${r.fieldFilter.peerOverConsole}× the console's time) | |`,
    `| console peak RSS | ${fmt(r.peakRssMb)} MB | < 200 MB |`,
  ].join('\n');
}

await runBench(
  main,
  [
    { name: 'stop the console', run: async () => void consoleProc?.kill('SIGTERM') },
    {
      name: 'delete the topic',
      run: async () => {
        if (!args['keep-topic']) await admin.deleteTopics({ topics: [TOPIC] }).catch(() => {});
      },
    },
  ],
  async () => {
    await admin.disconnect();
    if (Object.keys(report).length > 0) console.log(args.json ? JSON.stringify(report, null, 2) : markdown(report));
  },
);
