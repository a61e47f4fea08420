import type { ClickHouseClient } from '@clickhouse/client';
import type pg from 'pg';

/** One point an event passed, with the time it passed it. */
export interface Hop {
  hop: string;
  where: string;
  at: Date;
  /** The hop this one follows: ClickHouse and the processor both read from Kafka. */
  after?: string;
  /** The Kafka hop's record, so a console or a log line can link to it. */
  kafka?: { topic: string; partition: number; offset: string };
}

export interface Trace {
  event_uuid: string;
  request_id: string | null;
  /** In the order the event passed them; only hops it has reached so far. */
  hops: Hop[];
  /** Hops not reached (yet). */
  missing: string[];
}

/** The change that created the event, as ClickHouse's change log recorded it. */
interface CreateChange {
  lsn: string;
  source_ts_ms: string;
  partition: number;
  offset: string;
  ingested_ms: string;
}

export const HOPS = ['API accepted', 'PostgreSQL commit', 'Kafka', 'ClickHouse row', 'analytics row'] as const;

export interface TraceSources {
  telemetryDb: Pick<pg.Pool, 'query'>;
  ch: ClickHouseClient;
  /** The Kafka record's timestamp (when Connect produced it) at topic/partition/offset. */
  kafkaTimestamp(topic: string, partition: number, offset: string): Promise<Date>;
  eventsTopic: string;
}

const ms = (v: string | number) => new Date(Number(v));

async function chRows<T>(ch: ClickHouseClient, query: string, uuid: string): Promise<T[]> {
  const rs = await ch.query({ query, query_params: { uuid }, format: 'JSONEachRow' });
  return rs.json<T>();
}

/**
 * Follows one telemetry event through the pipeline by its uuid, from what each stage
 * stored: the row in PostgreSQL (request id, saved_ts = the API's INSERT), the
 * creating change in ClickHouse's change log (Debezium's source.ts_ms = commit time,
 * the Kafka partition/offset, the ingest time), the Kafka record at that offset (its
 * timestamp), and the processor's enriched row. A hop not reached yet is `missing`.
 */
export async function traceEvent(uuid: string, s: TraceSources): Promise<Trace> {
  const hops: Hop[] = [];
  const { rows } = await s.telemetryDb.query<{ request_id: string | null; saved_ms: string }>(
    `SELECT request_id, (extract(epoch FROM saved_ts) * 1000)::bigint::text AS saved_ms FROM telemetry_events WHERE event_uuid = $1::uuid`,
    [uuid],
  );
  const pgRow = rows[0];
  if (pgRow) hops.push({ hop: 'API accepted', where: `telemetry_events.saved_ts, request ${pgRow.request_id ?? '(none: not stored through the API)'}`, at: ms(pgRow.saved_ms) });

  const [created] = await chRows<CreateChange>(
    s.ch,
    `SELECT toString(_lsn) AS lsn, toString(toUnixTimestamp64Milli(_source_ts)) AS source_ts_ms, _kafka_partition AS partition,
            toString(_kafka_offset) AS offset, toString(toUnixTimestamp64Milli(_ingested_at)) AS ingested_ms
       FROM debezium.telemetry_events_merge
      WHERE event_uuid = {uuid:UUID} AND op IN ('c', 'r')
      ORDER BY _lsn LIMIT 1`,
    uuid,
  );
  if (created) {
    hops.push({ hop: 'PostgreSQL commit', after: 'API accepted', where: `Debezium source.ts_ms, LSN ${created.lsn}`, at: ms(created.source_ts_ms) });
    const partition = Number(created.partition);
    hops.push({
      hop: 'Kafka',
      after: 'PostgreSQL commit',
      where: `${s.eventsTopic}[${partition}]@${created.offset}`,
      kafka: { topic: s.eventsTopic, partition, offset: created.offset },
      at: await s.kafkaTimestamp(s.eventsTopic, partition, created.offset),
    });
    hops.push({ hop: 'ClickHouse row', after: 'Kafka', where: 'debezium.telemetry_events_merge._ingested_at (Kafka engine)', at: ms(created.ingested_ms) });
  }

  const [enriched] = await chRows<{ processed_ms: string; user_known: number; request_id: string | null }>(
    s.ch,
    `SELECT toString(toUnixTimestamp64Milli(min(_processed_at))) AS processed_ms, any(user_known) AS user_known, any(request_id) AS request_id
       FROM analytics.telemetry_enriched WHERE event_uuid = {uuid:UUID} HAVING count() > 0`,
    uuid,
  );
  if (enriched) {
    hops.push({
      hop: 'analytics row',
      after: 'Kafka',
      where: `analytics.telemetry_enriched._processed_at (stream processor${enriched.user_known ? '' : ', user not known yet'})`,
      at: ms(enriched.processed_ms),
    });
  }
  const reached = new Set(hops.map((h) => h.hop));
  return { event_uuid: uuid, request_id: pgRow?.request_id ?? null, hops, missing: HOPS.filter((h) => !reached.has(h)) };
}

/** Milliseconds from the hop this one follows, when both were reached. */
export function lagMs(t: Trace, h: Hop): number | undefined {
  const from = t.hops.find((x) => x.hop === h.after);
  return from ? h.at.getTime() - from.at.getTime() : undefined;
}

/** The trace as a table: each hop, its time and the lag since the hop it follows. */
export function formatTrace(t: Trace): string {
  const lines = [`event ${t.event_uuid}   request id ${t.request_id ?? '(none)'}`, ''];
  const width = Math.max(...t.hops.map((h) => h.hop.length), 4);
  for (const h of t.hops) {
    const lag = lagMs(t, h);
    const shown = lag === undefined ? '' : `${lag >= 0 ? '+' : ''}${lag.toLocaleString('en-US')} ms`;
    lines.push(`${h.hop.padEnd(width)}  ${h.at.toISOString()}  ${shown.padStart(10)}  ${h.where}`);
  }
  const first = t.hops[0];
  const ends = t.hops.filter((h) => h.hop === 'ClickHouse row' || h.hop === 'analytics row');
  if (first) for (const h of ends) lines.push(`${first.hop} → ${h.hop}: ${(h.at.getTime() - first.at.getTime()).toLocaleString('en-US')} ms`);
  if (t.missing.length > 0) lines.push(`not reached (yet): ${t.missing.join(', ')}`);
  return lines.join('\n');
}

/** The console's page of one Kafka message: what `trace` and the logs print as a link. */
export function consoleMessagePath(k: { topic: string; partition: number; offset: string }): string {
  return `/kafka/topics/${encodeURIComponent(k.topic)}/messages/${k.partition}/${k.offset}`;
}

/** Links into the console (at `base`) for a trace: its page and its Kafka record's page. */
export function consoleLinks(base: string, t: Trace): { trace: string; kafka: string | null } {
  const kafka = t.hops.find((h) => h.kafka)?.kafka;
  return { trace: `${base}/trace/${t.event_uuid}`, kafka: kafka ? `${base}${consoleMessagePath(kafka)}` : null };
}
