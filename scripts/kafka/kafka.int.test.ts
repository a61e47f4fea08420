import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel } from 'kafkajs';
import { createKafka, kafkaAccess } from '@cdc/kafka';
import { loadDotEnv, loadEndpoints } from '@cdc/config';
import type { GroupInfo } from '@cdc/kafka';
import type { TailLine } from './tail.js';
import type { TopicInfo } from '@cdc/kafka';
import { runScript, type ScriptRun } from '../../tests/support/run-script.js';

/**
 * The three commands as child processes against the stack's broker, on a topic and a
 * group of this test's own (auto-creation is off, so the topic is created here) which
 * are deleted afterwards. The pipeline's topics and groups are only read.
 */
loadDotEnv();
const env = loadEndpoints();
const suffix = randomBytes(4).toString('hex');
const TOPIC = `kafka-cli-test-${suffix}`;
const GROUP = `kafka-cli-test-${suffix}`;
const kafka = createKafka({ ...kafkaAccess(env), logLevel: 'silent' }, 'kafka-cli-int-test');
const admin = kafka.admin();

const json = (v: unknown) => Buffer.from(JSON.stringify(v));
// Partition 0: three JSON change events, then the tombstone that deletes id 1.
// Partition 1: one value that is neither JSON nor wire format.
const P0 = [
  { key: json({ id: 1 }), value: json({ op: 'c', after: { id: 1, name: 'Ada' } }) },
  { key: json({ id: 2 }), value: json({ op: 'c', after: { id: 2, name: 'Łukasz' } }) },
  { key: json({ id: 1 }), value: json({ op: 'd', before: { id: 1 }, after: null }), headers: { source: 'int-test' } },
  { key: json({ id: 1 }), value: null },
];
const P1 = [{ key: Buffer.from('plain-key'), value: Buffer.from('not json at all') }];

function cli(...args: string[]): Promise<ScriptRun> {
  return runScript('scripts/kafka/cli.ts', args, { KAFKA_BROKERS: env.KAFKA_BROKERS.join(',') });
}

const tailGroups = async () => (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.startsWith('kafka-cli-tail-'));
let tailGroupsBefore: string[] = [];

beforeAll(async () => {
  await admin.connect();
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic: TOPIC, numPartitions: 2, replicationFactor: 1 }] });
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  await producer.send({ topic: TOPIC, messages: P0.map((m) => ({ ...m, partition: 0 })) });
  await producer.send({ topic: TOPIC, messages: P1.map((m) => ({ ...m, partition: 1 })) });
  await producer.disconnect();
  // The group has consumed 1 of partition 0's 4 messages and all of partition 1.
  await admin.setOffsets({ groupId: GROUP, topic: TOPIC, partitions: [{ partition: 0, offset: '1' }, { partition: 1, offset: '1' }] });
  tailGroupsBefore = await tailGroups();
});

afterAll(async () => {
  await admin.deleteGroups([GROUP]).catch(() => {});
  await admin.deleteTopics({ topics: [TOPIC] }).catch(() => {});
  await admin.disconnect();
});

describe('scripts/kafka/cli.ts against the stack', () => {
  it('topics lists the test topic with its per-partition watermarks and count, and the pipeline topics', async () => {
    const asJson = await cli('topics', '--json');
    expect(asJson.code, asJson.stderr).toBe(0);
    const topics = JSON.parse(asJson.stdout) as TopicInfo[];
    expect(topics.find((t) => t.topic === TOPIC)).toEqual({
      topic: TOPIC,
      internal: false,
      cleanupPolicy: 'delete',
      partitions: [
        { partition: 0, low: 0, high: 4, messages: 4 },
        { partition: 1, low: 0, high: 1, messages: 1 },
      ],
      messages: 5,
    });
    expect(topics.find((t) => t.topic === 'crm.public.users')).toMatchObject({ cleanupPolicy: 'compact', internal: false });
    expect(topics.find((t) => t.topic === '__consumer_offsets')).toMatchObject({ internal: true });

    const asTable = await cli('topics');
    expect(asTable.code, asTable.stderr).toBe(0);
    expect(asTable.stdout).toMatch(/^TOPIC\s+INTERNAL\s+CLEANUP\.POLICY\s+PARTITIONS\s+MESSAGES~/);
    expect(asTable.stdout).toMatch(new RegExp(`^${TOPIC}\\s+delete\\s+2\\s+5\\s+0:4 1:1$`, 'm'));
  });

  it('groups shows the committed offsets, watermarks and lag of a group committed at a known offset', async () => {
    const asJson = await cli('groups', GROUP, '--json');
    expect(asJson.code, asJson.stderr).toBe(0);
    const [group, ...others] = JSON.parse(asJson.stdout) as GroupInfo[];
    expect(others).toEqual([]);
    expect(group).toMatchObject({
      group: GROUP,
      state: 'Empty',
      members: [],
      totalLag: 3,
      partitions: [
        { topic: TOPIC, partition: 0, committed: 1, high: 4, lag: 3, member: null },
        { topic: TOPIC, partition: 1, committed: 1, high: 1, lag: 0, member: null },
      ],
    });

    const all = await cli('groups');
    expect(all.code, all.stderr).toBe(0);
    expect(all.stdout).toContain(`GROUP ${GROUP}  state=Empty  members=0  type=consumer  total lag=3`);
    expect(all.stdout).toMatch(new RegExp(`^  ${TOPIC}\\s+0\\s+1\\s+4\\s+3\\s+-$`, 'm'));
    // The ClickHouse consumers are listed too (read-only here).
    expect(all.stdout).toMatch(/^GROUP clickhouse-crm-users /m);
  });

  it('tail prints one partition decoded and in order, tombstone last, and stops at --max', async () => {
    const run = await cli('tail', TOPIC, '--from-beginning', '--partition', '0', '--max', '4', '--timeout-ms', '15000');
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as TailLine);
    expect(lines.map((l) => [l.partition, l.offset, l.format])).toEqual([
      [0, 0, 'json'],
      [0, 1, 'json'],
      [0, 2, 'json'],
      [0, 3, 'tombstone'],
    ]);
    expect(lines.map((l) => l.key)).toEqual([{ id: 1 }, { id: 2 }, { id: 1 }, { id: 1 }]);
    expect(lines.map((l) => l.value)).toEqual([...P0.slice(0, 3).map((m) => JSON.parse(String(m.value))), null]);
    expect(lines[2]!.headers).toEqual({ source: 'int-test' });
    expect(Date.parse(lines[0]!.timestamp)).toBeGreaterThan(Date.now() - 10 * 60_000);
    expect(run.stderr).toMatch(/4 message\(s\), stopped: max/);
  });

  it('tail of the whole topic stops when idle, raw values kept as text, and leaves no group or commit behind', async () => {
    const run = await cli('tail', TOPIC, '--from-beginning', '--timeout-ms', '3000');
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as TailLine);
    expect(lines).toHaveLength(5);
    expect(lines.filter((l) => l.partition === 0).map((l) => l.offset)).toEqual([0, 1, 2, 3]);
    expect(lines.find((l) => l.partition === 1)).toMatchObject({
      offset: 0,
      key: 'plain-key',
      value: null,
      format: 'raw',
      raw: { utf8: 'not json at all', base64: Buffer.from('not json at all').toString('base64') },
    });
    expect(run.stderr).toMatch(/5 message\(s\), stopped: idle/);

    // The throw-away groups are gone, and the test group's position did not move.
    expect(await tailGroups()).toEqual(tailGroupsBefore);
    const offsets = await admin.fetchOffsets({ groupId: GROUP, topics: [TOPIC] });
    expect(offsets[0]!.partitions.map((p) => [p.partition, p.offset]).sort()).toEqual([
      [0, '1'],
      [1, '1'],
    ]);
  });

  it('exits 1 naming the topic or group that does not exist, and 2 on a bad command line', async () => {
    const noTopic = await cli('tail', `${TOPIC}-missing`, '--timeout-ms', '1000');
    expect(noTopic.code).toBe(1);
    expect(noTopic.stderr).toContain(`no such topic: ${TOPIC}-missing`);
    const noGroup = await cli('groups', `${GROUP}-missing`);
    expect(noGroup.code).toBe(1);
    expect(noGroup.stderr).toContain(`consumer group ${GROUP}-missing does not exist`);
    const usage = await cli('tail', TOPIC, '--max', 'x');
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/--max must be an integer[\s\S]*usage:/);
  });

  it('exits 1 naming the broker when Kafka is unreachable', async () => {
    const run = await runScript('scripts/kafka/cli.ts', ['topics'], { KAFKA_BROKERS: '127.0.0.1:1' });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('cannot connect to Kafka at 127.0.0.1:1');
  });
});
