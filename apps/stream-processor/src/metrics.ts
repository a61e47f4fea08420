import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** The processor's own metrics (the HTTP frame's and the CDC monitor's are elsewhere). */
export function createProcessorMetrics(registry: Registry) {
  return {
    processed: new Counter({
      name: 'cdc_processor_messages_total',
      help: 'Messages handled, by topic and result (processed, tombstone, dlq; dlq_earlier: poison a previous run already dead-lettered, met again while rebuilding the user dimension)',
      labelNames: ['topic', 'result'] as const,
      registers: [registry],
    }),
    failures: new Counter({
      name: 'cdc_processor_write_failures_total',
      help: 'Writes that failed, by what (insert, recompute: ClickHouse; publish: the Avro output topic); each is retried, nothing is skipped',
      labelNames: ['what'] as const,
      registers: [registry],
    }),
    batchSeconds: new Histogram({
      name: 'cdc_processor_batch_duration_seconds',
      help: 'Time to process one fetched batch, from decode to committed offsets',
      labelNames: ['topic'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    freshnessSeconds: new Histogram({
      name: 'cdc_processor_freshness_seconds',
      help: 'PostgreSQL commit (Debezium source.ts_ms) → the enriched row written to ClickHouse',
      buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300],
      registers: [registry],
    }),
    lag: new Gauge({
      name: 'cdc_processor_consumer_lag_messages',
      help: 'Messages of the events topic not yet committed by the enrich group (high watermark − committed offset), read from Kafka every STREAM_PROCESSOR_LAG_POLL_MS',
      labelNames: ['topic', 'partition'] as const,
      registers: [registry],
    }),
    users: new Gauge({
      name: 'cdc_processor_users_known',
      help: 'Users in the in-memory user dimension',
      registers: [registry],
    }),
    circuitOpen: new Gauge({
      name: 'cdc_processor_clickhouse_circuit_open',
      help: '1 while ClickHouse writes are failing and consumption is paused',
      registers: [registry],
    }),
  };
}
export type ProcessorMetrics = ReturnType<typeof createProcessorMetrics>;
