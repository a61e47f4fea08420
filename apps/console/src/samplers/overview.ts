import { describeGroups, toPartitionInfo } from '@cdc/kafka';
import type { Admin } from 'kafkajs';
import type { ComponentHealth, Hop, Overview } from '../contract.js';
import type { Deps } from '../deps.js';
import { slotReport } from '../routes/connect.js';

const CDC_TOPICS = ['crm.public.users', 'telemetry.public.telemetry_events'];
const CHECK_TIMEOUT_MS = 1_500;
/** A snapshot younger than this is served as is: many open pages cost one sample. */
const FRESH_MS = 1_500;

interface Counters {
  at: number;
  pgChanges: number | null;
  kafkaHigh: number | null;
  chCommitted: number | null;
  processorCommitted: number | null;
}

const timeout = <T>(p: Promise<T>, what: string): Promise<T> =>
  Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what}: no answer in ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS).unref())]);

/**
 * The Overview page's numbers: every component's health, each hop's rate (from two
 * successive samples of counters: PostgreSQL's row changes, Kafka's high watermarks,
 * each consumer group's committed offsets), lag and freshness, and the error counts.
 * Every probe is bounded, so one down component shows red instead of stalling the rest.
 */
export class OverviewSampler {
  private last: { overview: Overview; counters: Counters } | undefined;
  private running: Promise<Overview> | undefined;

  constructor(private readonly deps: Deps) {}

  snapshot(): Promise<Overview> {
    if (this.last && Date.now() - this.last.counters.at < FRESH_MS) return Promise.resolve(this.last.overview);
    return (this.running ??= this.sample().finally(() => (this.running = undefined)));
  }

  private async sample(): Promise<Overview> {
    const at = Date.now();
    const [components, pgChanges, kafka, slots, freshness, errors] = await Promise.all([
      this.health(),
      this.pgChanges().catch(() => null),
      this.kafkaCounters().catch(() => null),
      timeout(slotReport(this.deps), 'slots').catch(() => null),
      this.freshness().catch(() => ({ clickhouse: null, analytics: null })),
      this.errors(),
    ]);
    const counters: Counters = {
      at,
      pgChanges,
      kafkaHigh: kafka?.high ?? null,
      chCommitted: kafka?.ch.committed ?? null,
      processorCommitted: kafka?.processor.committed ?? null,
    };
    const prev = this.last?.counters;
    const rate = (k: keyof Omit<Counters, 'at'>) => {
      const a = prev?.[k];
      const b = counters[k];
      if (a === null || a === undefined || b === null || !prev) return null;
      return Math.max(0, (b - a) / ((at - prev.at) / 1000));
    };
    const slotLag = slots ? slots.slots.reduce((n, s) => n + (s.confirmLagBytes ?? 0), 0) : null;
    const hops: Hop[] = [
      { id: 'api-pg', from: 'APIs', to: 'PostgreSQL', ratePerS: rate('pgChanges'), lag: null, lagUnit: null, freshnessMs: null },
      { id: 'pg-debezium', from: 'PostgreSQL', to: 'Debezium', ratePerS: null, lag: slotLag, lagUnit: 'bytes', freshnessMs: null },
      { id: 'debezium-kafka', from: 'Debezium', to: 'Kafka', ratePerS: rate('kafkaHigh'), lag: null, lagUnit: null, freshnessMs: null },
      { id: 'kafka-clickhouse', from: 'Kafka', to: 'ClickHouse (Kafka engine)', ratePerS: rate('chCommitted'), lag: kafka?.ch.lag ?? null, lagUnit: 'messages', freshnessMs: freshness.clickhouse },
      { id: 'kafka-processor', from: 'Kafka', to: 'stream processor', ratePerS: rate('processorCommitted'), lag: kafka?.processor.lag ?? null, lagUnit: 'messages', freshnessMs: null },
      { id: 'processor-analytics', from: 'stream processor', to: 'analytics', ratePerS: null, lag: null, lagUnit: null, freshnessMs: freshness.analytics },
    ];
    const overview: Overview = { at: new Date(at).toISOString(), components, hops, errors: { kafkaErrors: errors.kafkaErrors, dlq: kafka?.dlq ?? [] } };
    this.last = { overview, counters };
    return overview;
  }

  private async health(): Promise<ComponentHealth[]> {
    const e = this.deps.config.endpoints;
    const apps = this.deps.config.apps;
    const http = (name: string, url: string) => async (): Promise<ComponentHealth> => {
      const res = await fetch(url, { signal: AbortSignal.timeout(CHECK_TIMEOUT_MS) });
      await res.body?.cancel();
      return { name, url, ok: res.ok, detail: `GET → ${res.status}` };
    };
    const probe = (name: string, url: string, fn: () => Promise<unknown>) => async (): Promise<ComponentHealth> => {
      await timeout(fn(), name);
      return { name, url, ok: true, detail: 'answers' };
    };
    const checks: [string, string, () => Promise<ComponentHealth>][] = [
      ['crm-api', apps.crmApi, http('crm-api', `${apps.crmApi}/health`)],
      ['telemetry-api', apps.telemetryApi, http('telemetry-api', `${apps.telemetryApi}/health`)],
      ['postgres-crm', redact(e.CRM_DATABASE_URL), probe('postgres-crm', redact(e.CRM_DATABASE_URL), () => this.deps.pg.crm.query('SELECT 1'))],
      ['postgres-telemetry', redact(e.TELEMETRY_DATABASE_URL), probe('postgres-telemetry', redact(e.TELEMETRY_DATABASE_URL), () => this.deps.pg.telemetry.query('SELECT 1'))],
      ['kafka', e.KAFKA_BROKERS.join(','), probe('kafka', e.KAFKA_BROKERS.join(','), () => this.deps.withAdmin((a) => a.describeCluster()))],
      ['kafka-connect', e.KAFKA_CONNECT_URL, http('kafka-connect', e.KAFKA_CONNECT_URL)],
      ...(this.deps.config.schemaRegistryUrl
        ? [['schema-registry', this.deps.config.schemaRegistryUrl, http('schema-registry', `${this.deps.config.schemaRegistryUrl}/subjects`)] as [string, string, () => Promise<ComponentHealth>]]
        : []),
      ['clickhouse', e.CLICKHOUSE_URL, probe('clickhouse', e.CLICKHOUSE_URL, () => this.deps.ch.query({ query: 'SELECT 1' }).then((r) => r.text()))],
      ['stream-processor', apps.processor, http('stream-processor', `${apps.processor}/ready`)],
    ];
    return Promise.all(
      checks.map(([name, url, check]) => check().catch((err: Error): ComponentHealth => ({ name, url, ok: false, detail: err.message }))),
    );
  }

  /** Rows inserted, updated and deleted in the source tables since the databases started. */
  private async pgChanges(): Promise<number> {
    const sql = `SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0)::text AS n FROM pg_stat_user_tables WHERE relname IN ('users', 'telemetry_events')`;
    const [a, b] = await Promise.all([timeout(this.deps.pg.crm.query<{ n: string }>(sql), 'crm'), timeout(this.deps.pg.telemetry.query<{ n: string }>(sql), 'telemetry')]);
    return Number(a.rows[0]!.n) + Number(b.rows[0]!.n);
  }

  private kafkaCounters() {
    return this.deps.withAdmin((admin) => this.countersWith(admin));
  }

  private async countersWith(admin: Admin) {
    // Watermarks of the topics the numbers need, nothing else: this runs every 2 s.
    const names = (await timeout(admin.listTopics(), 'kafka topics')).filter((t) => CDC_TOPICS.includes(t) || t.endsWith('.dlq')).sort();
    const topics = await timeout(
      Promise.all(names.map(async (topic) => ({ topic, partitions: (await admin.fetchTopicOffsets(topic)).map((o) => toPartitionInfo(o.partition, o.low, o.high)) }))),
      'kafka offsets',
    );
    const high = topics.filter((t) => CDC_TOPICS.includes(t.topic)).reduce((n, t) => n + t.partitions.reduce((m, p) => m + p.high, 0), 0);
    const dlq = topics
      .filter((t) => t.topic.endsWith('.dlq'))
      .map((t) => ({ topic: t.topic, messages: t.partitions.reduce((n, p) => n + p.messages, 0) }));
    const groups = await timeout(describeGroups(admin), 'kafka groups');
    const sum = (prefix: string) => {
      const parts = groups.filter((g) => g.group.startsWith(prefix)).flatMap((g) => g.partitions);
      return { committed: parts.reduce((n, p) => n + (p.committed ?? 0), 0), lag: parts.reduce((n, p) => n + (p.lag ?? 0), 0) };
    };
    return { high, dlq, ch: sum('clickhouse-'), processor: sum('stream-processor') };
  }

  private async freshness(): Promise<{ clickhouse: number | null; analytics: number | null }> {
    const rs = await timeout(
      this.deps.ch.query({
        query: `SELECT
                  (SELECT min(seconds_since_last_change) * 1000 FROM debezium.freshness) AS clickhouse,
                  (SELECT if(count() = 0, NULL, dateDiff('millisecond', max(_processed_at), now64(3)))
                     FROM analytics.telemetry_enriched WHERE _processed_at > now64(3) - INTERVAL 5 MINUTE) AS analytics`,
        format: 'JSONEachRow',
      }),
      'clickhouse freshness',
    );
    const [row] = await rs.json<{ clickhouse: number | null; analytics: number | string | null }>();
    const n = (v: unknown) => (v === null || v === undefined || Number.isNaN(Number(v)) ? null : Math.round(Number(v)));
    return { clickhouse: n(row?.clickhouse), analytics: n(row?.analytics) };
  }

  private async errors(): Promise<{ kafkaErrors: number | null }> {
    try {
      const rs = await timeout(this.deps.ch.query({ query: 'SELECT count() AS n FROM debezium.kafka_errors', format: 'JSONEachRow' }), 'kafka_errors');
      const [row] = await rs.json<{ n: string }>();
      return { kafkaErrors: Number(row?.n ?? 0) };
    } catch {
      return { kafkaErrors: null };
    }
  }
}

/** A database URL without its password, for display. */
function redact(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}
