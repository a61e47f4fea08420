import { Counter, type Registry } from 'prom-client';

export const INGEST_RESULTS = ['inserted', 'duplicate', 'conflict', 'invalid'] as const;
export type IngestResult = (typeof INGEST_RESULTS)[number];

export type IngestCounter = Counter<'result'>;

/** cdc_telemetry_events_ingested_total{result}: every event offered, single or in a batch. */
export function createIngestCounter(registry: Registry): IngestCounter {
  const counter = new Counter({
    name: 'cdc_telemetry_events_ingested_total',
    help: 'Telemetry events received, by outcome (inserted, duplicate, conflict, invalid)',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  // Every series exists from the start, so rate() and alerts see 0 rather than nothing.
  for (const result of INGEST_RESULTS) counter.inc({ result }, 0);
  return counter;
}
