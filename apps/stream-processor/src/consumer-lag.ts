import type { Admin, Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import type { Gauge } from 'prom-client';

export interface LagMonitor {
  /** Kafka answered the last poll, and that poll is recent (≤ 3 intervals old). */
  kafkaReachable(): boolean;
  stop(): Promise<void>;
}

export interface LagMonitorOptions {
  kafka: Kafka;
  groupId: string;
  topic: string;
  /** cdc_processor_consumer_lag_messages{topic,partition} */
  gauge: Gauge<'topic' | 'partition'>;
  pollMs: number;
  log: Logger;
}

/**
 * The consumer group's lag read from Kafka on a timer: high watermark minus the
 * group's committed offset, per partition. Read from the outside, not set after each
 * batch, so it grows while the processor is stuck or paused (a gauge set per batch
 * would keep its last value, often 0, exactly when it matters) and is there right
 * after a restart. A failed read also says Kafka is unreachable, which /ready reports.
 */
export function startLagMonitor(opts: LagMonitorOptions): LagMonitor {
  const { kafka, groupId, topic, gauge, pollMs, log } = opts;
  let admin: Admin | undefined;
  let lastOkAt = 0;
  let lastWarnAt = 0;
  let stopped = false;
  let running: Promise<void> | undefined;

  async function poll(): Promise<void> {
    try {
      admin ??= kafka.admin();
      await admin.connect();
      const [ends, [committed]] = await Promise.all([admin.fetchTopicOffsets(topic), admin.fetchOffsets({ groupId, topics: [topic] })]);
      const byPartition = new Map(committed?.partitions.map((p) => [p.partition, p.offset]) ?? []);
      for (const end of ends) {
        const done = byPartition.get(end.partition);
        // -1: the group has committed nothing on this partition yet; all it holds is behind.
        const from = done === undefined || done === '-1' ? BigInt(end.low) : BigInt(done);
        const lag = BigInt(end.high) - from;
        gauge.set({ topic, partition: String(end.partition) }, Number(lag > 0n ? lag : 0n));
      }
      lastOkAt = Date.now();
    } catch (err) {
      // Once a minute at most: Kafka being down is reported by /ready, not by log floods.
      if (Date.now() - lastWarnAt > 60_000) {
        lastWarnAt = Date.now();
        log.warn({ err: (err as Error).message, groupId, topic }, 'consumer lag not readable (Kafka unreachable?)');
      }
    }
  }

  const tick = () => {
    // A poll against a down broker can outlast the interval; never stack them up.
    running ??= poll().finally(() => (running = undefined));
  };
  tick();
  const timer = setInterval(tick, pollMs);
  timer.unref();

  return {
    kafkaReachable: () => lastOkAt > 0 && Date.now() - lastOkAt <= 3 * pollMs,
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      await running;
      await admin?.disconnect().catch(() => {});
    },
  };
}
