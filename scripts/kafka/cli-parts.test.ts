import { describe, expect, it } from 'vitest';
import { parseCommand } from './args.js';
import { loadKafkaCliConfig } from './config.js';
import { UsageError } from './errors.js';
import { formatGroups, formatTopics, table } from './format.js';
import { partitionLag, totalLag, type GroupInfo } from '@cdc/kafka';
import { headersToText, toLine } from './tail.js';
import { toPartitionInfo } from '@cdc/kafka';

describe('parseCommand', () => {
  it('parses the three commands with their options', () => {
    expect(parseCommand(['topics', '--json'])).toEqual({ command: 'topics', topics: [], json: true });
    expect(parseCommand(['groups', 'a', 'b'])).toEqual({ command: 'groups', groups: ['a', 'b'], json: false });
    expect(parseCommand(['tail', 't', '--from-beginning', '--max', '3', '--partition', '0', '--timeout-ms', '500'])).toEqual({
      command: 'tail',
      topic: 't',
      fromBeginning: true,
      max: 3,
      partition: 0,
      timeoutMs: 500,
    });
    expect(parseCommand(['tail', 't'])).toMatchObject({ fromBeginning: false, max: undefined, partition: undefined, timeoutMs: 10_000 });
  });

  it.each([
    [[], /missing the command/],
    [['nope'], /unknown command "nope"/],
    [['tail'], /tail needs a topic/],
    [['tail', 't', 'u'], /unexpected argument: u/],
    [['tail', 't', '--max', '0'], /--max must be an integer ≥ 1/],
    [['tail', 't', '--partition', '-1'], /--partition/],
    [['tail', 't', '--timeout-ms', '1.5'], /--timeout-ms must be an integer/],
    [['tail', 't', '--json'], /tail always prints JSON lines/],
    [['topics', '--max', '3'], /--max is an option of tail only/],
    [['groups', '--bogus'], /bogus/],
  ])('%j is a usage error', (argv, message) => {
    expect(() => parseCommand(argv)).toThrow(UsageError);
    expect(() => parseCommand(argv)).toThrow(message);
  });
});

describe('loadKafkaCliConfig', () => {
  it("defaults to the native stack and its schema registry; an empty registry URL means none", () => {
    expect(loadKafkaCliConfig({ KAFKA_PASSWORD: 'test-admin-secret' })).toEqual({
      brokers: ['127.0.0.1:9092'],
      user: 'admin',
      password: 'test-admin-secret',
      schemaRegistryUrl: 'http://127.0.0.1:8081/apis/ccompat/v6',
      logLevel: 'silent',
    });
    expect(loadKafkaCliConfig({ KAFKA_PASSWORD: 'test-admin-secret', SCHEMA_REGISTRY_URL: '' }).schemaRegistryUrl).toBeUndefined();
  });

  it('reads brokers and the registry URL, and rejects a malformed one', () => {
    expect(loadKafkaCliConfig({ KAFKA_PASSWORD: 'test-admin-secret', KAFKA_BROKERS: 'a:1, b:2', SCHEMA_REGISTRY_URL: 'http://sr:8081' })).toMatchObject({
      brokers: ['a:1', 'b:2'],
      schemaRegistryUrl: 'http://sr:8081',
    });
    expect(() => loadKafkaCliConfig({ KAFKA_PASSWORD: 'test-admin-secret', SCHEMA_REGISTRY_URL: 'sr:8081' })).toThrow(/SCHEMA_REGISTRY_URL/);
  });
});

describe('lag', () => {
  it('is the high watermark minus the committed offset; nothing committed (-1) has no lag', () => {
    expect(partitionLag('t', 0, '7', 10, 'c1')).toEqual({ topic: 't', partition: 0, committed: 7, high: 10, lag: 3, member: 'c1' });
    expect(partitionLag('t', 1, '-1', 10, null)).toMatchObject({ committed: null, lag: null });
    expect(partitionLag('gone', 0, '5', null, null)).toMatchObject({ committed: 5, high: null, lag: null });
  });

  it('totals the known lags, and is null when none is known', () => {
    expect(totalLag([partitionLag('t', 0, '7', 10, null), partitionLag('t', 1, '-1', 4, null), partitionLag('t', 2, '0', 2, null)])).toBe(5);
    expect(totalLag([partitionLag('t', 0, '-1', 10, null)])).toBeNull();
    expect(totalLag([])).toBeNull();
  });
});

describe('tables', () => {
  it('pads columns and right-aligns numbers', () => {
    expect(table(['NAME', 'N'], [['a', 1], ['long-name', 100]], new Set([1]))).toBe('NAME         N\na            1\nlong-name  100');
  });

  it('topics: one row per topic with the per-partition watermarks', () => {
    const out = formatTopics([
      { topic: '__consumer_offsets', internal: true, cleanupPolicy: 'compact', partitions: [toPartitionInfo(0, '0', '4')], messages: 4 },
      { topic: 'crm.public.users', internal: false, cleanupPolicy: 'compact', partitions: [toPartitionInfo(0, '2', '12'), toPartitionInfo(1, '0', '3')], messages: 13 },
    ]);
    expect(out.split('\n')[2]).toMatch(/^crm\.public\.users\s+compact\s+2\s+13\s+0:12 1:3$/);
    expect(out.split('\n')[1]).toMatch(/^__consumer_offsets\s+yes\s+compact/);
  });

  it('groups: header with state and total lag; a group without offsets says so', () => {
    const g: GroupInfo = {
      group: 'g1',
      state: 'Empty',
      protocolType: 'consumer',
      protocol: '',
      members: [],
      partitions: [partitionLag('t', 0, '7', 10, null), partitionLag('t', 1, '-1', 4, null)],
      totalLag: 3,
    };
    const out = formatGroups([g, { ...g, group: 'g2', partitions: [], totalLag: null }]);
    expect(out).toContain('GROUP g1  state=Empty  members=0  type=consumer  total lag=3');
    expect(out).toMatch(/\n {2}t\s+1\s+-\s+4\s+-\s+-\n/);
    expect(out).toContain('GROUP g2  state=Empty  members=0  type=consumer  total lag=-\n  (no committed offsets)');
  });
});

describe('tail lines', () => {
  it('one JSON object per message: key and value decoded, headers as text', async () => {
    const line = await toLine(
      2,
      {
        key: Buffer.from('{"id":5}'),
        value: null,
        offset: '17',
        timestamp: '0',
        attributes: 0,
        headers: { h: Buffer.from('v'), multi: [Buffer.from('a'), 'b'] },
      },
      undefined,
    );
    expect(line).toEqual({
      partition: 2,
      offset: 17,
      timestamp: '1970-01-01T00:00:00.000Z',
      key: { id: 5 },
      headers: { h: 'v', multi: ['a', 'b'] },
      value: null,
      format: 'tombstone',
    });
    expect(headersToText(undefined)).toEqual({});
  });
});
