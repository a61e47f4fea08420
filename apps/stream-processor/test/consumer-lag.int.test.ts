import { randomUUID } from 'node:crypto';
import { createKafka } from '@cdc/kafka';
import { pino } from 'pino';
import { Gauge, Registry } from 'prom-client';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { startLagMonitor } from '../src/consumer-lag.js';

// The test stack's brokers (vitest.config.ts), never the defaults: those are the user's stack.
const config = loadConfig(process.env);
const TOPIC = 'telemetry.public.telemetry_events';
const log = pino({ level: 'silent' });
const kafka = createKafka({ ...config.kafka, logLevel: 'silent' }, 'consumer-lag-test');
const admin = kafka.admin();
const groups: string[] = [];

afterAll(async () => {
  await admin.deleteGroups(groups).catch(() => {});
  await admin.disconnect();
});

function gauge() {
  const registry = new Registry();
  return new Gauge({ name: 'lag_under_test', help: 'x', labelNames: ['topic', 'partition'] as const, registers: [registry] });
}

async function valuesOf(g: Gauge<'topic' | 'partition'>): Promise<Map<number, number>> {
  const { values } = await g.get();
  return new Map(values.map((v) => [Number(v.labels.partition), v.value]));
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('consumer lag read from Kafka', () => {
  it('is high watermark − committed offset per partition, and follows new commits without any batch', async () => {
    await admin.connect();
    const ends = await admin.fetchTopicOffsets(TOPIC);
    const groupId = `consumer-lag-test-${randomUUID()}`;
    groups.push(groupId);
    // Partition 0 committed 3 behind its end (when it holds that many); the others never committed.
    const p0 = ends.find((e) => e.partition === 0)!;
    const behind = BigInt(p0.high) - BigInt(p0.low) >= 3n ? 3n : BigInt(p0.high) - BigInt(p0.low);
    await admin.setOffsets({ groupId, topic: TOPIC, partitions: [{ partition: 0, offset: (BigInt(p0.high) - behind).toString() }] });

    const g = gauge();
    const monitor = startLagMonitor({ kafka, groupId, topic: TOPIC, gauge: g, pollMs: 200, log });
    try {
      await until('the first poll', async () => (monitor.kafkaReachable() ? true : undefined));
      // The topic may still be growing (changes of earlier tests on their way): the gauge
      // must settle on high − committed as of one poll, whatever the ends are by then.
      const committed0 = BigInt(p0.high) - behind;
      let last = '';
      await until('the gauge to equal high watermark − committed offset', async () => {
        const now = await admin.fetchTopicOffsets(TOPIC);
        // Partition 0 is 3 behind its old end plus whatever came since; never committed: everything the partition holds.
        const expected = new Map(now.map((e) => [e.partition, Number(BigInt(e.high) - (e.partition === 0 ? committed0 : BigInt(e.low)))]));
        const seen = await valuesOf(g);
        last = `expected ${JSON.stringify([...expected])}, gauge ${JSON.stringify([...seen])}`;
        return [...expected].every(([p, v]) => seen.get(p) === v) ? true : undefined;
      }).catch((e: Error) => {
        throw new Error(`${e.message}: ${last}`);
      });

      // The group catches up (as the processor would commit): the gauge drops to 0 by itself.
      const latest = await admin.fetchTopicOffsets(TOPIC);
      await admin.setOffsets({ groupId, topic: TOPIC, partitions: latest.map((e) => ({ partition: e.partition, offset: e.high })) });
      await until('lag 0 after the commit', async () => {
        const v = await valuesOf(g);
        return [...v.values()].every((x) => x === 0) && v.size === latest.length ? true : undefined;
      });
    } finally {
      await monitor.stop();
    }
  });

  it('says Kafka is unreachable when it is, without throwing or hanging stop()', async () => {
    const nowhere = createKafka(
      { ...config.kafka, brokers: ['127.0.0.1:1'], logLevel: 'silent', tuning: { connectionTimeout: 200, retry: { retries: 0 } } },
      'consumer-lag-test',
    );
    const monitor = startLagMonitor({ kafka: nowhere, groupId: 'nobody', topic: TOPIC, gauge: gauge(), pollMs: 100, log });
    await new Promise((r) => setTimeout(r, 1_000));
    expect(monitor.kafkaReachable()).toBe(false);
    const t0 = Date.now();
    await monitor.stop();
    expect(Date.now() - t0).toBeLessThan(10_000);
  });
});
