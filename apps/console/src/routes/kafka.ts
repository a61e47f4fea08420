import { Hono, type Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import kafkajs from 'kafkajs';
import { decodeBytes, describeGroups, describeTopics, KafkaInspectError, type RawMessage } from '@cdc/kafka';
import type { GroupDetail, GroupSummary, MessagePage, TopicDetail, TopicSummary } from '../contract.js';
import type { Deps } from '../deps.js';
import { ConsoleError, intParam, unknownTopic } from '../errors.js';
import { newestPage, partitionRanges, scanNewestFirst, scanTotal } from '../messages/browse.js';
import { FilterError, isEmpty, matches, parseField, type Filter } from '../messages/filter.js';
import { toMessage } from '../messages/view.js';
import type { LagHistory } from '../samplers/lag-history.js';
import { rowsOf } from '../messages/rows.js';

const { ConfigResourceTypes } = kafkajs;
const TOPIC_CONFIGS = ['cleanup.policy', 'retention.ms', 'retention.bytes', 'segment.bytes', 'min.insync.replicas', 'compression.type', 'max.message.bytes'];

const PAGE_MAX = 500;
const SCAN_MAX = 5_000_000;

export function kafkaRoutes(deps: Deps, lag: LagHistory): Hono {
  const app = new Hono();

  app.get('/topics', async (c) => {
    const topics = await deps.withAdmin((admin) => describeTopics(admin));
    const [retention, sizes] = await Promise.all([topicConfigs(deps, topics.map((t) => t.topic), ['retention.ms']), topicSizes(deps)]);
    return c.json(
      topics.map(
        (t): TopicSummary => ({
          topic: t.topic,
          internal: t.internal,
          partitions: t.partitions.length,
          messages: t.messages,
          cleanupPolicy: t.cleanupPolicy,
          retentionMs: retention.get(t.topic)?.find((x) => x.name === 'retention.ms')?.value ?? '',
          sizeBytes: sizes?.get(t.topic) ?? null,
        }),
      ),
    );
  });

  app.get('/topics/:topic', async (c) => {
    const topic = c.req.param('topic');
    const [t, meta] = await deps.withAdmin(async (admin) => {
      const [found] = await describeTopics(admin, [topic]).catch((err: Error) => {
        if (err instanceof KafkaInspectError) throw new ConsoleError(404, err.message, { cause: err });
        throw err;
      });
      return [found, await admin.fetchTopicMetadata({ topics: [topic] })] as const;
    });
    const leaders = new Map(meta.topics[0]?.partitions.map((p) => [p.partitionId, p.leader]) ?? []);
    const [configMap, sizes] = await Promise.all([topicConfigs(deps, [topic]), topicSizes(deps)]);
    const configs = configMap.get(topic) ?? [];
    const detail: TopicDetail = {
      topic,
      internal: t!.internal,
      partitions: t!.partitions.length,
      messages: t!.messages,
      cleanupPolicy: t!.cleanupPolicy,
      retentionMs: configs.find((x) => x.name === 'retention.ms')?.value ?? '',
      sizeBytes: sizes?.get(topic) ?? null,
      partitionInfo: t!.partitions.map((p) => ({ ...p, leader: leaders.get(p.partition) ?? -1 })),
      configs,
    };
    return c.json(detail);
  });

  app.get('/topics/:topic/messages', async (c) => {
    const topic = c.req.param('topic');
    const limit = intParam(c, 'limit', { min: 1, max: PAGE_MAX }) ?? 50;
    const ranges = await rangesFor(deps, c, topic);
    const page = await newestPage(deps.reader, topic, ranges, limit);
    const body: MessagePage = {
      messages: await Promise.all(page.messages.map((m) => toMessage(topic, m, deps.registry))),
      older: page.older,
    };
    return c.json(body);
  });

  // Server-sent events: a scan can take seconds, and the page shows how far it got.
  app.get('/topics/:topic/search', async (c) => {
    const topic = c.req.param('topic');
    const filter = filterFrom(c);
    if (isEmpty(filter)) throw new ConsoleError(400, 'give at least one of key, text, field');
    const limit = intParam(c, 'limit', { min: 1, max: PAGE_MAX }) ?? 100;
    const scanLimit = intParam(c, 'scan', { min: 1, max: SCAN_MAX }) ?? 1_000_000;
    const ranges = await rangesFor(deps, c, topic);
    const total = scanTotal(ranges, scanLimit);
    return streamSSE(c, async (sse) => {
      const t0 = performance.now();
      let stopped = false;
      sse.onAbort(() => {
        stopped = true;
      });
      let scanned = 0;
      let matched = 0;
      let lastProgress = 0;
      // A value the registry cannot decode does not match, rather than ending the scan.
      const decode = (m: RawMessage) => decodeBytes(m.value, deps.registry).then((d) => d.value, () => undefined);
      try {
        for await (const window of scanNewestFirst(deps.reader, topic, ranges, scanLimit)) {
          for (const m of window.messages) {
            if (matched >= limit) break;
            if (await matches(m, filter, decode)) {
              matched++;
              await sse.writeSSE({ event: 'match', data: JSON.stringify(await toMessage(topic, m, deps.registry)) });
            }
          }
          scanned += window.offsets;
          if (stopped || matched >= limit) break;
          if (performance.now() - lastProgress >= 100) {
            lastProgress = performance.now();
            await sse.writeSSE({ event: 'progress', data: JSON.stringify({ scanned, total, matched }) });
          }
        }
        await sse.writeSSE({ event: 'done', data: JSON.stringify({ scanned, total, matched, ms: Math.round(performance.now() - t0) }) });
      } catch (err) {
        await sse.writeSSE({ event: 'error', data: JSON.stringify({ detail: (err as Error).message }) });
      }
    });
  });

  app.get('/messages/:topic/:partition/:offset', async (c) => c.json(await messageAt(deps, c)));

  app.get('/messages/:topic/:partition/:offset/rows', async (c) => c.json(await rowsOf(deps, await messageAt(deps, c))));

  app.get('/groups', async (c) => {
    const groups = await deps.withAdmin((admin) => describeGroups(admin));
    return c.json(
      groups.map(
        (g): GroupSummary => ({
          group: g.group,
          state: g.state,
          members: g.members.length,
          topics: [...new Set(g.partitions.map((p) => p.topic))].sort(),
          totalLag: g.totalLag,
        }),
      ),
    );
  });

  app.get('/groups/:group', async (c) => {
    const id = c.req.param('group');
    const [g] = await deps.withAdmin((admin) => describeGroups(admin, [id])).catch((err: Error) => {
      if (err instanceof KafkaInspectError) throw new ConsoleError(404, err.message, { cause: err });
      throw err;
    });
    const detail: GroupDetail = {
      group: g!.group,
      state: g!.state,
      protocolType: g!.protocolType,
      members: g!.members,
      partitions: g!.partitions,
      totalLag: g!.totalLag,
      history: lag.of(id),
    };
    return c.json(detail);
  });

  return app;
}

async function rangesFor(deps: Deps, c: Context, topic: string) {
  const partition = intParam(c, 'partition');
  const offset = intParam(c, 'offset');
  const ts = c.req.query('timestamp');
  const timestamp = ts ? Date.parse(ts) : undefined;
  if (ts && !Number.isFinite(timestamp)) throw new ConsoleError(400, `timestamp: expected an ISO date-time, got "${ts}"`);
  const ranges = await deps.withAdmin(async (admin) => {
    if (!(await admin.listTopics()).includes(topic)) throw new ConsoleError(404, `no such topic: ${topic}`);
    return partitionRanges(admin, topic, {
      partition,
      ...(offset !== undefined && { offset: BigInt(offset) }),
      ...(timestamp !== undefined && { timestamp }),
    });
  });
  if (partition !== undefined && ranges.length === 0) throw new ConsoleError(404, `topic ${topic} has no partition ${partition}`);
  return ranges;
}

function filterFrom(c: Context): Filter {
  const key = c.req.query('key') || undefined;
  const text = c.req.query('text') || undefined;
  const field = c.req.query('field') || undefined;
  try {
    return { ...(key && { key }), ...(text && { text }), ...(field && { field: parseField(field) }) };
  } catch (err) {
    if (err instanceof FilterError) throw new ConsoleError(400, err.message);
    throw err;
  }
}

async function messageAt(deps: Deps, c: Context) {
  const topic = c.req.param('topic')!;
  const partition = Number(c.req.param('partition'));
  const offsetText = c.req.param('offset')!;
  if (!Number.isInteger(partition) || partition < 0 || !/^\d+$/.test(offsetText)) {
    throw new ConsoleError(400, 'expected /messages/<topic>/<partition>/<offset> with integers');
  }
  const raw = await deps.reader.readOne(topic, partition, BigInt(offsetText)).catch((err: unknown) => {
    if (unknownTopic(err)) throw new ConsoleError(404, `no such topic: ${topic}`, { cause: err });
    throw err;
  });
  if (!raw) throw new ConsoleError(404, `${topic}[${partition}]@${offsetText}: no such message (not written yet, or removed by retention or compaction)`);
  return toMessage(topic, raw, deps.registry);
}

async function topicConfigs(deps: Deps, topics: string[], names: string[] = TOPIC_CONFIGS) {
  if (topics.length === 0) return new Map<string, TopicDetail['configs']>();
  const res = await deps.withAdmin((admin) => admin.describeConfigs({
    includeSynonyms: false,
    resources: topics.map((name) => ({ type: ConfigResourceTypes.TOPIC, name, configNames: names })),
  }));
  return new Map(
    res.resources.map((r) => [r.resourceName, r.configEntries.map((e) => ({ name: e.configName, value: e.configValue, isDefault: e.isDefault }))]),
  );
}

/** Sizes are a nicety: a broker that refuses DescribeLogDirs (ACLs) leaves them blank, not the page. */
async function topicSizes(deps: Deps): Promise<Map<string, number> | undefined> {
  try {
    return await deps.reader.topicSizes();
  } catch (err) {
    deps.log.debug({ err: (err as Error).message }, 'DescribeLogDirs failed');
    return undefined;
  }
}
