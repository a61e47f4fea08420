import type { ClickHouseClient } from '@clickhouse/client';
import type { Logger } from 'pino';
import { Gauge, type Registry } from 'prom-client';

/**
 * Watches the ClickHouse side of the CDC pipeline (clickhouse/0004–0006):
 * - reads debezium.freshness into Prometheus gauges, so "how far behind are we" is
 *   a metric and an alert, not only a query;
 * - counts the rows of debezium.kafka_errors per topic, and what became of every
 *   offset ClickHouse read (debezium.kafka_trace: change, error or skip);
 * - removes deleted users' empty entries from debezium.users_join (a Join table
 *   cannot drop a key on insert; a mutation can).
 * A failed round is logged and shown as cdc_monitor_up 0; the next one tries again.
 */
export interface CdcMonitor {
  stop(): void;
}

interface FreshnessRow {
  source_table: string;
  changes_5m: number | string;
  lag_p50_s: number;
  lag_p99_s: number;
  lag_max_s: number;
  seconds_since_last_change: number;
}

export function startCdcMonitor(opts: {
  ch: ClickHouseClient;
  registry: Registry;
  log: Logger;
  pollMs: number;
  purgeMs: number;
}): CdcMonitor {
  const { ch, registry, log } = opts;
  const lag = new Gauge({
    name: 'cdc_clickhouse_lag_seconds',
    help: 'PostgreSQL commit → ClickHouse insert, over the changes of the last 5 minutes (debezium.freshness)',
    labelNames: ['table', 'stat'] as const,
    registers: [registry],
  });
  const changes = new Gauge({
    name: 'cdc_clickhouse_changes_5m',
    help: 'Changes ClickHouse ingested in the last 5 minutes',
    labelNames: ['table'] as const,
    registers: [registry],
  });
  const sinceLast = new Gauge({
    name: 'cdc_clickhouse_seconds_since_last_change',
    help: 'Seconds since ClickHouse last ingested a change of the table',
    labelNames: ['table'] as const,
    registers: [registry],
  });
  const errors = new Gauge({
    name: 'cdc_clickhouse_kafka_errors',
    help: 'Messages in debezium.kafka_errors (unusable CDC messages, kept 30 days)',
    labelNames: ['topic'] as const,
    registers: [registry],
  });
  const messages = new Gauge({
    name: 'cdc_clickhouse_kafka_messages',
    help: 'Offsets of a consumed topic ClickHouse has read, by outcome: change applied, error row, or skipped (tombstone, empty value, compacted away)',
    labelNames: ['topic', 'outcome'] as const,
    registers: [registry],
  });
  const up = new Gauge({
    name: 'cdc_monitor_up',
    help: '1 when the last read of the ClickHouse CDC state succeeded',
    registers: [registry],
  });

  async function poll(): Promise<void> {
    try {
      const fresh = await (await ch.query({ query: 'SELECT * FROM debezium.freshness', format: 'JSONEachRow' })).json<FreshnessRow>();
      const errs = await (
        await ch.query({ query: 'SELECT topic, count() AS n FROM debezium.kafka_errors GROUP BY topic', format: 'JSONEachRow' })
      ).json<{ topic: string; n: number | string }>();
      const trace = await (
        await ch.query({
          query: 'SELECT topic, sum(changes) AS change, sum(errors) AS error, sum(skipped) AS skipped FROM debezium.kafka_trace GROUP BY topic',
          format: 'JSONEachRow',
        })
      ).json<{ topic: string; change: number | string; error: number | string; skipped: number | string }>();
      // Every read first, then every gauge at once: a scrape never sees half a round.
      for (const g of [lag, changes, sinceLast, errors, messages]) g.reset();
      for (const r of fresh) {
        lag.set({ table: r.source_table, stat: 'p50' }, r.lag_p50_s);
        lag.set({ table: r.source_table, stat: 'p99' }, r.lag_p99_s);
        lag.set({ table: r.source_table, stat: 'max' }, r.lag_max_s);
        changes.set({ table: r.source_table }, Number(r.changes_5m));
        sinceLast.set({ table: r.source_table }, r.seconds_since_last_change);
      }
      for (const e of errs) errors.set({ topic: e.topic }, Number(e.n));
      for (const t of trace) {
        for (const outcome of ['change', 'error', 'skipped'] as const) messages.set({ topic: t.topic, outcome }, Number(t[outcome]));
      }
      up.set(1);
    } catch (err) {
      up.set(0);
      log.warn({ err: (err as Error).message }, 'reading ClickHouse CDC freshness failed');
    }
  }

  async function purge(): Promise<void> {
    try {
      await ch.command({ query: 'ALTER TABLE debezium.users_join DELETE WHERE _is_deleted = 1' });
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'purging deleted users from debezium.users_join failed');
    }
  }

  void poll();
  const timers = [setInterval(() => void poll(), opts.pollMs), setInterval(() => void purge(), opts.purgeMs)];
  return {
    stop() {
      for (const t of timers) clearInterval(t);
    },
  };
}
