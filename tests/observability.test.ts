import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { SyntaxNode } from '@lezer/common';
import { parser as promql } from '@prometheus-io/lezer-promql';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { COMPOSE_ENV } from './support/secrets-env.js';

/**
 * Prometheus and Grafana (docker-compose.yaml + ops/) cannot run here (no Docker
 * engine), so their configuration is checked statically:
 * - every metric a dashboard panel or an alert rule queries is one an app really
 *   registers (read from apps/*\/src and packages/*\/src, plus prom-client's
 *   default metrics and Prometheus' own `up`), with labels the metric has and, for
 *   `label="value"` matchers, a value the source really uses;
 * - Prometheus scrapes exactly the compose app services on their container ports;
 * - compose mounts the ops/ files that exist, at the paths the configs name, and
 *   binds every published port to 127.0.0.1 only.
 * PromQL is read with the Prometheus project's own grammar (@prometheus-io/lezer-promql,
 * the parser of the Prometheus UI's editor; promtool comes only with Debian's ~96 MB
 * prometheus package): any syntax error, an unknown function or aggregation among
 * them, fails the query.
 */

const ROOT = path.resolve(import.meta.dirname, '..');
const OPS = path.join(ROOT, 'ops');
const read = (rel: string) => readFileSync(path.join(ROOT, rel), 'utf8');
const APPS = ['crm-api', 'telemetry-api', 'stream-processor'] as const;

// ------------------------------------------------------------------ metric catalog

type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary';
interface MetricDef {
  /** Exact name, or a pattern for names built from a template literal. */
  name: string | RegExp;
  type: MetricType;
  /** undefined: not checked (prom-client's default metrics). */
  labels?: Set<string>;
  source: string;
}

function sourceFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) out.push(full);
    }
  };
  for (const top of ['apps', 'packages']) {
    for (const pkg of readdirSync(path.join(ROOT, top))) {
      const src = path.join(ROOT, top, pkg, 'src');
      if (existsSync(src)) walk(src);
    }
  }
  return out;
}

const SOURCES = sourceFiles().map((file) => ({ file: path.relative(ROOT, file), text: readFileSync(file, 'utf8') }));

/** `new Counter({ name: '…', labelNames: ['a', 'b'] … })` and the like, in every source file. */
function registeredMetrics(): MetricDef[] {
  const defs: MetricDef[] = [];
  const ctor = /new\s+(Counter|Gauge|Histogram|Summary)\s*(?:<[^>]*>)?\s*\(/g;
  for (const { file, text } of SOURCES) {
    const starts = [...text.matchAll(ctor)];
    starts.forEach((m, i) => {
      const chunk = text.slice(m.index, starts[i + 1]?.index ?? m.index + 2000);
      const name = /\bname:\s*(['"`])(.+?)\1/.exec(chunk);
      if (!name) return;
      const labelList = /\blabelNames:\s*\[([^\]]*)\]/.exec(chunk);
      const labels = new Set([...(labelList?.[1] ?? '').matchAll(/['"]([\w]+)['"]/g)].map((l) => l[1]!));
      const raw = name[2]!;
      const pattern = raw.includes('${')
        ? new RegExp(`^${raw.split(/\$\{[^}]*\}/).map((s) => s.replace(/[.*+?^$()|[\]\\]/g, '\\$&')).join('[a-zA-Z0-9_]+')}$`)
        : raw;
      defs.push({ name: pattern, type: m[1]!.toLowerCase() as MetricType, labels, source: file });
    });
  }
  return defs;
}

async function defaultMetrics(): Promise<MetricDef[]> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const json = await registry.getMetricsAsJSON();
  return json.map((m) => ({ name: m.name, type: String(m.type) as MetricType, source: 'prom-client collectDefaultMetrics' }));
}

/** Series Prometheus adds to every scrape target. */
const PROMETHEUS_SYNTHETIC: MetricDef[] = ['up', 'scrape_duration_seconds', 'scrape_samples_scraped', 'scrape_samples_post_metric_relabeling', 'scrape_series_added'].map(
  (name) => ({ name, type: 'gauge', labels: new Set(), source: 'Prometheus' }),
);

/** Labels every scraped series has: job/instance from Prometheus, service from setDefaultLabels. */
const TARGET_LABELS = new Set(['job', 'instance', 'service']);

interface Catalog {
  /** The registered metric behind a queried series name (histogram suffixes resolved). */
  lookup(series: string): { def: MetricDef; extraLabels: string[] } | undefined;
}

function catalog(defs: MetricDef[]): Catalog {
  const matches = (def: MetricDef, name: string) => (typeof def.name === 'string' ? def.name === name : def.name.test(name));
  return {
    lookup(series) {
      for (const def of defs) {
        if (def.type === 'histogram' || def.type === 'summary') {
          const suffixes = def.type === 'histogram' ? ['_bucket', '_sum', '_count'] : ['_sum', '_count', ''];
          for (const suffix of suffixes) {
            if (series.endsWith(suffix) && matches(def, series.slice(0, series.length - suffix.length))) {
              return { def, extraLabels: suffix === '_bucket' ? ['le'] : suffix === '' ? ['quantile'] : [] };
            }
          }
        } else if (matches(def, series)) {
          return { def, extraLabels: [] };
        }
      }
      return undefined;
    },
  };
}

// ------------------------------------------------------------------------- PromQL

interface Matcher {
  label: string;
  op: string;
  value: string;
}
interface Selector {
  metric: string;
  matchers: Matcher[];
}
interface ParsedQuery {
  selectors: Selector[];
  /** Labels named in by/without/on/ignoring/group_* clauses. */
  grouping: string[];
  /** Labels of `by (…)` clauses only (what an aggregated result keeps). */
  byLabels: string[];
}

/** Grafana's interval variables stand for durations. */
const withGrafanaVariables = (expr: string) => expr.replace(/\$__(rate_interval|interval|range)\b/g, '5m');

/** A PromQL string literal's value: "…" and '…' take backslash escapes, `…` is raw. */
const unquote = (literal: string) =>
  literal.startsWith('`') ? literal.slice(1, -1) : literal.slice(1, -1).replace(/\\(.)/g, (_, c: string) => ({ n: '\n', r: '\r', t: '\t' })[c] ?? c);

/**
 * Reads a query with the Prometheus project's own PromQL grammar (the Lezer parser
 * behind the Prometheus UI's editor). The parser recovers from errors by putting ⚠
 * nodes in the tree; any such node is a syntax error here. Only functions the
 * grammar knows become a FunctionIdentifier, so a misspelt function or aggregation
 * is an error node too.
 */
function parsePromQL(input: string): ParsedQuery {
  const expr = withGrafanaVariables(input);
  const fail = (msg: string): never => {
    throw new Error(`${msg} in PromQL: ${input}`);
  };
  const tree = promql.parse(expr);
  const text = (node: SyntaxNode | null) => (node ? expr.slice(node.from, node.to) : '');

  let error: SyntaxNode | undefined;
  tree.iterate({
    enter: (ref) => {
      if (error) return false;
      if (ref.type.isError) error = ref.node;
      return undefined;
    },
  });
  if (error) {
    const prev = error.prevSibling;
    const matcher = [error.parent, error.parent?.parent].find((n) => n?.name.endsWith('LabelMatcher'));
    if (expr[error.from] === '$') fail('unknown template variable');
    if (error.from === expr.trimEnd().length) fail('query ends early: unclosed bracket or missing operand');
    if (matcher) fail(`bad matcher ${text(matcher)}`);
    if (expr[error.from] === '(' && prev?.name === 'Identifier') fail(`unknown function ${text(prev)}()`);
    fail(`syntax error at column ${error.from + 1} near ${JSON.stringify(expr.slice(error.from, error.from + 20))}`);
  }

  const selectors: Selector[] = [];
  const grouping: string[] = [];
  const byLabels: string[] = [];
  let callsVector = false;
  const labelName = (node: SyntaxNode) => (node.name === 'QuotedLabelName' ? unquote(text(node.firstChild)) : text(node));
  tree.iterate({
    enter: ({ name, node }) => {
      if (name === 'FunctionIdentifier' && node.firstChild?.name === 'Vector') callsVector = true;
      if (name === 'GroupingLabels') {
        const labels: string[] = [];
        for (let c = node.firstChild; c; c = c.nextSibling) if (c.name === 'LabelName' || c.name === 'QuotedLabelName') labels.push(labelName(c));
        grouping.push(...labels);
        if (node.prevSibling?.name === 'By') byLabels.push(...labels);
      }
      if (name !== 'VectorSelector') return;
      let metric = text(node.getChild('Identifier')) || undefined;
      const matchers: Matcher[] = [];
      for (let m = node.getChild('LabelMatchers')?.firstChild; m; m = m.nextSibling) {
        if (m.name === 'QuotedLabelName') {
          metric = labelName(m); // {"metric.name"}: a quoted metric name
        } else if (m.name === 'UnquotedLabelMatcher' || m.name === 'QuotedLabelMatcher') {
          const label = labelName(m.firstChild!);
          const op = text(m.getChild('MatchOp'));
          const value = unquote(text(m.getChild('StringLiteral')));
          if (label === '__name__' && op === '=') metric = value;
          else matchers.push({ label, op, value });
        }
      }
      if (!metric) fail(`selector ${text(node)} has no metric name`);
      selectors.push({ metric: metric!, matchers });
    },
  });
  if (selectors.length === 0 && !callsVector) fail('no metric');
  return { selectors, grouping, byLabels };
}

// ----------------------------------------------------------------- configuration

interface DashboardPanel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { type: string; uid: string };
  targets?: { refId: string; expr: string; legendFormat?: string; datasource?: { type: string; uid: string } }[];
  panels?: DashboardPanel[];
}
interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface Query {
  where: string;
  expr: string;
  /** Label names a template may use ({{x}} / {{ $labels.x }}). */
  templates: string[];
}

const dashboardFiles = readdirSync(path.join(OPS, 'grafana/dashboards')).filter((f) => f.endsWith('.json'));
const dashboards = dashboardFiles.map((f) => ({
  file: f,
  json: JSON.parse(readFileSync(path.join(OPS, 'grafana/dashboards', f), 'utf8')) as {
    uid: string;
    title: string;
    schemaVersion: number;
    panels: DashboardPanel[];
  },
}));
const allPanels = (panels: DashboardPanel[]): DashboardPanel[] => panels.flatMap((p) => [p, ...allPanels(p.panels ?? [])]);

const alertGroups = (parse(readFileSync(path.join(OPS, 'prometheus/alerts.yml'), 'utf8')) as { groups: { name: string; rules: AlertRule[] }[] }).groups;
const alertRules = alertGroups.flatMap((g) => g.rules);

const prometheusConfig = parse(readFileSync(path.join(OPS, 'prometheus/prometheus.yml'), 'utf8')) as {
  global: { scrape_interval: string; evaluation_interval?: string };
  rule_files: string[];
  scrape_configs: { job_name: string; metrics_path?: string; static_configs: { targets: string[] }[] }[];
};
const scrapeJobs = new Set(prometheusConfig.scrape_configs.map((s) => s.job_name));

const datasourceConfig = parse(readFileSync(path.join(OPS, 'grafana/provisioning/datasources/prometheus.yml'), 'utf8')) as {
  datasources: { name: string; uid: string; type: string; url: string; jsonData?: { timeInterval?: string } }[];
};
const providerConfig = parse(readFileSync(path.join(OPS, 'grafana/provisioning/dashboards/dashboards.yml'), 'utf8')) as {
  providers: { name: string; type: string; options: { path: string } }[];
};

const queries: Query[] = [
  ...dashboards.flatMap(({ file, json }) =>
    allPanels(json.panels).flatMap((p) =>
      (p.targets ?? []).map((t) => ({
        where: `${file} panel "${p.title}" ${t.refId}`,
        expr: t.expr,
        templates: [...(t.legendFormat ?? '').matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map((m) => m[1]!),
      })),
    ),
  ),
  ...alertRules.map((r) => ({
    where: `alerts.yml ${r.alert}`,
    expr: r.expr,
    templates: [...Object.values(r.annotations ?? {}).join(' ').matchAll(/\$labels\.(\w+)/g)].map((m) => m[1]!),
  })),
];

// docker-compose 1.29 (Debian's) has no `config --format json`: parse the rendered YAML.
interface ComposeService {
  image?: string;
  command?: string[] | string;
  ports?: (string | { host_ip?: string; published?: string | number; target: number })[];
  volumes?: (string | { type: string; source?: string; target: string; read_only?: boolean })[];
  environment?: Record<string, string>;
  healthcheck?: { test: unknown };
  depends_on?: Record<string, { condition: string }> | string[];
  deploy?: { resources?: { limits?: { memory?: string } } };
}
const compose = parse(execFileSync('docker-compose', ['-f', 'docker-compose.yaml', 'config'], { cwd: ROOT, encoding: 'utf8', env: COMPOSE_ENV })) as {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
};

function portsOf(s: ComposeService): { hostIp: string; published: string; target: number }[] {
  return (s.ports ?? []).map((p) => {
    if (typeof p !== 'string') return { hostIp: p.host_ip ?? '', published: String(p.published ?? ''), target: Number(p.target) };
    // [ip:]published:target[/proto]
    const parts = p.replace(/\/\w+$/, '').split(':');
    const target = Number(parts.pop());
    const published = parts.pop() ?? '';
    return { hostIp: parts.join(':'), published, target };
  });
}
function mountsOf(s: ComposeService): { source: string; target: string; readOnly: boolean; bind: boolean }[] {
  return (s.volumes ?? []).map((v) => {
    if (typeof v !== 'string') return { source: v.source ?? '', target: v.target, readOnly: !!v.read_only, bind: v.type === 'bind' };
    const [source, target, mode] = v.split(':') as [string, string, string | undefined];
    return { source, target, readOnly: mode === 'ro', bind: source.startsWith('/') || source.startsWith('.') };
  });
}
/** The host path (absolute) a container path of the service is mounted from, if any. */
function hostPathOf(s: ComposeService, containerPath: string): string | undefined {
  for (const m of mountsOf(s).filter((m) => m.bind)) {
    if (containerPath === m.target || containerPath.startsWith(`${m.target}/`)) {
      return path.join(path.resolve(ROOT, m.source), path.relative(m.target, containerPath));
    }
  }
  return undefined;
}

// -------------------------------------------------------------------------- tests

describe('metric catalog read from the apps', () => {
  it('finds the metrics the apps register, with their labels', () => {
    const defs = registeredMetrics();
    const byName = new Map(defs.filter((d) => typeof d.name === 'string').map((d) => [d.name as string, d]));
    expect(byName.get('cdc_http_requests_total')?.labels).toEqual(new Set(['method', 'route', 'status']));
    expect(byName.get('cdc_processor_messages_total')?.labels).toEqual(new Set(['topic', 'result']));
    expect(byName.get('cdc_processor_freshness_seconds')?.type).toBe('histogram');
    expect(byName.get('cdc_clickhouse_lag_seconds')?.labels).toEqual(new Set(['table', 'stat']));
    expect(byName.get('cdc_db_pool_clients_waiting')?.labels).toEqual(new Set(['pool']));
    // The regex reader still sees every metric (a new one may join the list; none may vanish unseen).
    expect([...byName.keys()]).toEqual(
      expect.arrayContaining([
        'cdc_http_requests_total', 'cdc_http_request_duration_seconds', 'cdc_telemetry_events_ingested_total',
        'cdc_processor_messages_total', 'cdc_processor_write_failures_total', 'cdc_processor_batch_duration_seconds',
        'cdc_processor_freshness_seconds', 'cdc_processor_consumer_lag_messages', 'cdc_processor_users_known',
        'cdc_processor_clickhouse_circuit_open', 'cdc_clickhouse_lag_seconds', 'cdc_clickhouse_changes_5m',
        'cdc_clickhouse_seconds_since_last_change', 'cdc_clickhouse_kafka_errors', 'cdc_clickhouse_kafka_messages', 'cdc_monitor_up',
      ]),
    );
  });

  it('names every metric one way: cdc_<area>_<what>, base units, _total only on counters', () => {
    // Prometheus' naming practice, held across the three apps so one dashboard reads
    // them all: one namespace, the unit in the name, counters and only counters _total.
    const defs = registeredMetrics();
    expect(defs.length).toBeGreaterThan(15);
    const areas = new Set<string>();
    for (const d of defs) {
      const name = typeof d.name === 'string' ? d.name : d.name.source;
      const where = `${name} (${d.source})`;
      expect(name, where).toMatch(/^\^?cdc_[a-z]+_[a-z0-9_]+\$?$/);
      areas.add(name.replace(/^\^?cdc_/, '').split('_')[0]!);
      expect(name.endsWith('_total'), where).toBe(d.type === 'counter');
      if (d.type === 'histogram' || d.type === 'summary') expect(name, where).toMatch(/_(seconds|bytes)$/);
      expect(name, where).not.toMatch(/_(ms|milliseconds|kb|mb|percent)(_|$)/);
    }
    expect([...areas].sort()).toEqual(['clickhouse', 'db', 'http', 'monitor', 'processor', 'telemetry']);
  });

  it('every app has a /metrics route, default metrics and the service label the queries rely on', () => {
    const all = SOURCES.map((s) => s.text).join('\n');
    expect(all).toMatch(/get\('\/metrics'/);
    expect(all).toMatch(/collectDefaultMetrics\(/);
    expect(all).toMatch(/setDefaultLabels\(\{ service/);
  });
});

describe('PromQL reader', () => {
  it('finds selectors, matchers and grouping labels, and rejects typos', () => {
    const q = parsePromQL('histogram_quantile(0.99, sum by (job, le) (rate(x_bucket{route!~"/m|/h", a="b"}[$__rate_interval]))) > 5');
    expect(q.selectors).toEqual([{ metric: 'x_bucket', matchers: [{ label: 'route', op: '!~', value: '/m|/h' }, { label: 'a', op: '=', value: 'b' }] }]);
    expect(q.byLabels).toEqual(['job', 'le']);
    expect(parsePromQL('a - a offset 10m or (a > 0 unless a offset 10m)').selectors.map((s) => s.metric)).toEqual(['a', 'a', 'a', 'a']);
    expect(parsePromQL('a * on (job) group_left (route) sum without (x) (b)').grouping).toEqual(['job', 'route', 'x']);
    expect(parsePromQL('{__name__="a", "b"="c"}').selectors).toEqual([{ metric: 'a', matchers: [{ label: 'b', op: '=', value: 'c' }] }]);
    expect(parsePromQL('vector(1)').selectors).toEqual([]);
    expect(() => parsePromQL('sum(rte(x[5m]))')).toThrow(/unknown function rte\(\)/);
    expect(() => parsePromQL('histogram_quantil(0.9, x)')).toThrow(/unknown function histogram_quantil\(\)/);
    expect(() => parsePromQL('summ by (job) (x)')).toThrow(/syntax error at column 6/);
    expect(() => parsePromQL('sum(rate(x[5m])')).toThrow(/unclosed/);
    expect(() => parsePromQL('rate(x[5m]) >')).toThrow(/missing operand/);
    expect(() => parsePromQL('x{a=b}')).toThrow(/bad matcher a=b/);
    expect(() => parsePromQL('rate(x[$interval])')).toThrow(/template variable/);
    expect(() => parsePromQL('{job="a"}')).toThrow(/no metric name/);
    expect(() => parsePromQL('time()')).toThrow(/no metric/);
  });
});

describe('dashboard and alert queries use real metrics', async () => {
  const defs = [...registeredMetrics(), ...(await defaultMetrics()), ...PROMETHEUS_SYNTHETIC];
  const known = catalog(defs);
  const stringLiterals = new Set(SOURCES.flatMap((s) => [...s.text.matchAll(/'([^'\n]*)'|"([^"\n]*)"/g)].map((m) => m[1] ?? m[2]!)));

  it('has queries to check', () => {
    expect(dashboards.length).toBeGreaterThan(0);
    expect(queries.length).toBeGreaterThan(20);
  });

  it.each(queries.map((q) => [q.where, q] as const))('%s', (_where, q) => {
    const parsed = parsePromQL(q.expr);
    const labelsInExpr = new Set(TARGET_LABELS);
    for (const sel of parsed.selectors) {
      const hit = known.lookup(sel.metric);
      expect(hit, `metric ${sel.metric} is registered by no app (nor is it a prom-client default or Prometheus series)`).toBeDefined();
      const labels = hit!.def.labels ? new Set([...hit!.def.labels, ...hit!.extraLabels, ...TARGET_LABELS]) : undefined;
      for (const l of labels ?? []) labelsInExpr.add(l);
      if (!labels) {
        // prom-client default metric: labels not declared in this repository.
        for (const m of sel.matchers) labelsInExpr.add(m.label);
        continue;
      }
      for (const m of sel.matchers) {
        expect(labels.has(m.label), `${sel.metric} has no label ${m.label} (has ${[...labels].join(', ')})`).toBe(true);
        if (m.label === 'job') {
          // Only plain names or a|b|c alternatives: each must be a scrape job.
          for (const job of m.value.split('|')) expect(scrapeJobs.has(job), `job "${job}" is not scraped`).toBe(true);
        } else if (m.op === '=' && !TARGET_LABELS.has(m.label)) {
          expect(stringLiterals.has(m.value), `${sel.metric}{${m.label}="${m.value}"}: no app source uses the value '${m.value}'`).toBe(true);
        }
      }
    }
    for (const l of parsed.grouping) expect(labelsInExpr.has(l), `grouping label ${l} is on none of the query's metrics`).toBe(true);
    // A legend / annotation can show only labels the result keeps.
    const kept = parsed.byLabels.length ? new Set(parsed.byLabels) : labelsInExpr;
    for (const l of q.templates) expect(kept.has(l), `template label ${l} is not in the result (${[...kept].join(', ')})`).toBe(true);
  });

  it('a misspelt metric, label or label value is caught', () => {
    expect(known.lookup('cdc_processor_message_total')).toBeUndefined();
    expect(known.lookup('cdc_processor_freshness_seconds')).toBeUndefined(); // a histogram is queried by its series
    expect(known.lookup('cdc_processor_freshness_seconds_bucket')?.extraLabels).toEqual(['le']);
    expect(known.lookup('cdc_db_pool_clients_waiting')).toBeDefined();
    expect(stringLiterals.has('dlq')).toBe(true);
    expect(stringLiterals.has('dead_letter')).toBe(false);
  });
});

describe('Grafana dashboards', () => {
  const datasource = datasourceConfig.datasources[0]!;

  it('provisions one Prometheus data source with a fixed uid', () => {
    expect(datasourceConfig.datasources).toHaveLength(1);
    expect(datasource.type).toBe('prometheus');
    expect(datasource.uid).toMatch(/^[\w-]+$/);
    expect(datasource.jsonData?.timeInterval).toBe(prometheusConfig.global.scrape_interval);
  });

  it.each(dashboards.map((d) => [d.file, d.json] as const))('%s: valid panels on the provisioned data source', (_file, json) => {
    expect(json.uid).toMatch(/^[\w-]{1,40}$/);
    expect(json.schemaVersion).toBeGreaterThanOrEqual(36);
    const panels = allPanels(json.panels);
    const ids = panels.map((p) => p.id);
    expect(new Set(ids).size, 'panel ids are unique').toBe(ids.length);
    for (const p of panels) {
      expect(p.gridPos.x + p.gridPos.w, `${p.title} fits the 24-column grid`).toBeLessThanOrEqual(24);
      if (p.type === 'row') continue;
      expect(p.targets?.length, `${p.title} has queries`).toBeGreaterThan(0);
      expect(p.datasource, `${p.title} data source`).toEqual({ type: 'prometheus', uid: datasource.uid });
      const refIds = p.targets!.map((t) => t.refId);
      expect(new Set(refIds).size, `${p.title} refIds`).toBe(refIds.length);
      for (const t of p.targets!) expect(t.datasource ?? p.datasource, `${p.title} ${t.refId}`).toEqual({ type: 'prometheus', uid: datasource.uid });
    }
  });

  it('the CDC dashboard covers ingest, latency, processor, lag, freshness, errors, DLQ and the circuit', () => {
    const exprs = allPanels(dashboards.find((d) => d.file === 'cdc-pipeline.json')!.json.panels)
      .flatMap((p) => p.targets ?? [])
      .map((t) => t.expr);
    const uses = (metric: string, needle = '') => exprs.some((e) => parsePromQL(e).selectors.some((s) => s.metric === metric) && e.includes(needle));
    expect(uses('cdc_http_requests_total')).toBe(true);
    expect(uses('cdc_telemetry_events_ingested_total')).toBe(true);
    expect(uses('cdc_http_request_duration_seconds_bucket', 'histogram_quantile(0.99')).toBe(true);
    expect(uses('cdc_processor_messages_total', 'result')).toBe(true);
    expect(uses('cdc_processor_consumer_lag_messages', 'partition')).toBe(true);
    expect(uses('cdc_processor_freshness_seconds_bucket')).toBe(true);
    expect(uses('cdc_clickhouse_lag_seconds')).toBe(true);
    expect(uses('cdc_http_requests_total', 'status=~"5..')).toBe(true);
    expect(uses('cdc_processor_write_failures_total')).toBe(true);
    expect(uses('cdc_clickhouse_kafka_errors')).toBe(true);
    expect(uses('cdc_processor_messages_total', 'result="dlq"')).toBe(true);
    expect(uses('cdc_processor_clickhouse_circuit_open')).toBe(true);
  });
});

describe('Prometheus alert rules', () => {
  it('are well-formed', () => {
    const names = alertRules.map((r) => r.alert);
    expect(new Set(names).size, 'alert names are unique').toBe(names.length);
    for (const r of alertRules) {
      expect(r.alert).toMatch(/^[A-Z][A-Za-z0-9]+$/);
      expect(r.labels?.severity, `${r.alert} severity`).toMatch(/^(critical|warning|info)$/);
      expect(r.annotations?.summary, `${r.alert} summary`).toBeTruthy();
      if (r.for !== undefined) expect(r.for, `${r.alert} for`).toMatch(/^(\d+(ms|[smhdwy]))+$/);
    }
  });

  it('cover the pipeline failure modes', () => {
    const exprOf = (metric: string) => alertRules.filter((r) => parsePromQL(r.expr).selectors.some((s) => s.metric === metric)).map((r) => r.expr);
    expect(exprOf('cdc_processor_clickhouse_circuit_open')).not.toHaveLength(0);
    expect(exprOf('cdc_processor_consumer_lag_messages')).not.toHaveLength(0);
    expect(exprOf('cdc_clickhouse_lag_seconds').join()).toMatch(/> 5\b/);
    expect(exprOf('cdc_clickhouse_kafka_errors')).not.toHaveLength(0);
    expect(exprOf('cdc_processor_messages_total').join()).toContain('result="dlq"');
    expect(exprOf('cdc_http_requests_total').join()).toContain('status=~"5.."');
  });
});

describe('Prometheus scrape configuration', () => {
  it('scrapes every 5 s and loads rule files that exist', () => {
    expect(prometheusConfig.global.scrape_interval).toBe('5s');
    const prom = compose.services.prometheus!;
    expect(prometheusConfig.rule_files.length).toBeGreaterThan(0);
    for (const f of prometheusConfig.rule_files) {
      const host = hostPathOf(prom, f);
      expect(host, `${f} is inside a mount`).toBeDefined();
      expect(existsSync(host!), `${f} → ${host}`).toBe(true);
    }
    const configFlag = [prom.command ?? []].flat().find((a) => a.startsWith('--config.file='));
    expect(configFlag, 'prometheus --config.file').toBeDefined();
    expect(hostPathOf(prom, configFlag!.split('=')[1]!)).toBe(path.join(OPS, 'prometheus/prometheus.yml'));
  });

  it('targets are the compose app services on their container ports, at /metrics', () => {
    const targets = new Map<string, string>();
    for (const job of prometheusConfig.scrape_configs) {
      for (const target of job.static_configs.flatMap((s) => s.targets)) {
        const [host, port] = target.split(':') as [string, string];
        if (host === '127.0.0.1' || host === 'localhost') {
          // Prometheus scraping itself, inside its container.
          expect(portsOf(compose.services.prometheus!).map((p) => p.target)).toContain(Number(port));
          continue;
        }
        const service = compose.services[host];
        expect(service, `${job.job_name}: ${host} is a compose service`).toBeDefined();
        expect(portsOf(service!).map((p) => p.target), `${target} is a port ${host} listens on`).toContain(Number(port));
        expect(job.metrics_path ?? '/metrics').toBe('/metrics');
        targets.set(host, port);
      }
    }
    expect([...targets.keys()].sort()).toEqual([...APPS].sort());
    // The apps listen where their environment says (x-app-env).
    const portVar = { 'crm-api': 'CRM_API_PORT', 'telemetry-api': 'TELEMETRY_API_PORT', 'stream-processor': 'STREAM_PROCESSOR_PORT' } as const;
    for (const app of APPS) expect(compose.services[app]!.environment?.[portVar[app]], app).toBe(targets.get(app));
  });
});

describe('docker-compose.yaml observability services', () => {
  const prom = compose.services.prometheus;
  const grafana = compose.services.grafana;

  it('exist with pinned images, healthchecks, memory limits and named volumes', () => {
    for (const [name, s] of Object.entries({ prometheus: prom, grafana })) {
      expect(s, name).toBeDefined();
      expect(s!.image, `${name} image is pinned`).toMatch(/:v?\d+\.\d+\.\d+$/);
      expect(s!.healthcheck?.test, `${name} healthcheck`).toBeDefined();
      expect(s!.deploy?.resources?.limits?.memory, `${name} memory limit`).toBeDefined();
      const named = mountsOf(s!).filter((m) => !m.bind);
      expect(named.length, `${name} keeps its data in a named volume`).toBe(1);
      expect(Object.keys(compose.volumes ?? {})).toContain(named[0]!.source);
    }
    expect(portsOf(prom!).map((p) => p.published)).toEqual(['9090']);
    expect(portsOf(grafana!).map((p) => p.published)).toEqual(['3000']);
    const deps = grafana!.depends_on;
    expect(Array.isArray(deps) ? deps : Object.keys(deps ?? {})).toContain('prometheus');
  });

  it('publishes every port of every service on 127.0.0.1 only', () => {
    for (const [name, s] of Object.entries(compose.services)) {
      for (const p of portsOf(s)) expect(p.hostIp, `${name} ${p.published}:${p.target}`).toBe('127.0.0.1');
    }
  });

  it('mounts ops/ read-only, and every mounted path exists on disk', () => {
    for (const [name, s] of Object.entries(compose.services)) {
      for (const m of mountsOf(s).filter((m) => m.bind)) {
        const source = path.resolve(ROOT, m.source);
        expect(existsSync(source), `${name}: ${m.source} exists`).toBe(true);
        if (source.startsWith(`${OPS}/`)) expect(m.readOnly, `${name}: ${m.target} is read-only`).toBe(true);
      }
    }
    expect(hostPathOf(prom!, '/etc/prometheus')).toBe(path.join(OPS, 'prometheus'));
  });

  it('Grafana gets every provisioning directory, the dashboards the provider reads, and the home dashboard', () => {
    const provisioning = path.join(OPS, 'grafana/provisioning');
    const kinds = readdirSync(provisioning).filter((d) => statSync(path.join(provisioning, d)).isDirectory());
    expect(kinds.sort()).toEqual(['dashboards', 'datasources']);
    for (const kind of kinds) expect(hostPathOf(grafana!, `/etc/grafana/provisioning/${kind}`), kind).toBe(path.join(provisioning, kind));
    for (const provider of providerConfig.providers) {
      expect(provider.type).toBe('file');
      expect(hostPathOf(grafana!, provider.options.path), provider.name).toBe(path.join(OPS, 'grafana/dashboards'));
    }
    const home = grafana!.environment?.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH;
    expect(home).toBeDefined();
    expect(existsSync(hostPathOf(grafana!, home!) ?? ''), `home dashboard ${home}`).toBe(true);
  });

  it('Grafana reaches Prometheus by its compose service name and port, with a password from the environment', () => {
    const url = new URL(datasourceConfig.datasources[0]!.url);
    expect(compose.services[url.hostname], url.hostname).toBe(prom);
    expect(portsOf(prom!).map((p) => p.target)).toContain(Number(url.port));
    expect(read('docker-compose.yaml')).toMatch(/GF_SECURITY_ADMIN_PASSWORD: \$\{GRAFANA_ADMIN_PASSWORD:\?[^}]+\}/);
    expect(grafana!.environment?.GF_AUTH_ANONYMOUS_ORG_ROLE).toBe('Viewer');
  });
});
