import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { BenchName, BenchResult, Metric, PathName } from './results.js';
import { fmt } from './support.js';

/**
 * What `npm run bench:perf` writes, from the benches' results (results.ts): the
 * section of docs/benchmarks.md, the chart, the README's headline. Pure functions of
 * their input (the SVG aside, which vega renders), so a test can check every figure
 * and the run itself only has to write files.
 */

export const PERF_HEADING = '## Performance against the peer (issue 14)';
export const PERF_ANCHOR = 'performance-against-the-peer-issue-14';
export const PERF_MARKERS = { start: '<!-- bench:perf:start -->', end: '<!-- bench:perf:end -->' };
export const HEADLINE_MARKERS = { start: '<!-- bench:headline:start -->', end: '<!-- bench:headline:end -->' };

/** A bench that ran and gave no result: shown, so a missing row is never silent. */
export interface Failure {
  bench: BenchName;
  command: string;
  reason: string;
}

export interface PerfRun {
  results: BenchResult[];
  failures: Failure[];
}

const TITLES: Record<BenchName, string> = { cdc: 'CDC', processor: 'Stream processor', snapshot: 'Initial snapshot' };
const ORDER: BenchName[] = ['cdc', 'processor', 'snapshot'];
const byBench = <T extends { bench: BenchName }>(xs: T[]) => [...xs].sort((a, b) => ORDER.indexOf(a.bench) - ORDER.indexOf(b.bench));

// ---------------------------------------------------------------- figures

/** Three significant-ish digits: 6,188 changes/s, 83 µs, 0.77. */
export function formatValue(x: number | null | undefined): string {
  if (x === undefined) return '–';
  if (x === null) return 'n/a';
  const abs = Math.abs(x);
  return fmt(x, abs >= 100 || abs === 0 ? 0 : abs >= 10 ? 1 : 2);
}

const value = (m: Metric, path: PathName) => m.values[path];
const positive = (x: number | null | undefined): x is number => typeof x === 'number' && Number.isFinite(x) && x > 0;

/** Ours ÷ the peer, as measured; undefined without both figures. */
export function ratioToPeer(m: Metric): number | undefined {
  const ours = value(m, 'ours');
  const peer = value(m, 'peer');
  return positive(ours) && positive(peer) ? ours / peer : undefined;
}

/**
 * How a path compares with the peer with "more is better" for every metric: ours ÷
 * peer where higher is better, peer ÷ ours where lower is (latency, CPU, memory). So
 * on the chart, above 1 is always ahead of the peer, whatever the unit.
 */
export function versusPeer(m: Metric, path: PathName): number | undefined {
  const x = value(m, path);
  const peer = value(m, 'peer');
  if (!positive(x) || !positive(peer)) return undefined;
  return m.better === 'higher' ? x / peer : peer / x;
}

const goalCell = (m: Metric) => (m.goal ? `${m.goal.met ? 'met' : '**not met**'}: ${m.goal.text}` : '');
const utc = (iso: string) => `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
const cell = (s: string) => s.replace(/\|/g, '\\|');

function period(results: BenchResult[]): string {
  const starts = results.map((r) => r.startedAt).sort();
  const ends = results.map((r) => r.finishedAt).sort();
  const [from, to] = [starts[0]!, ends[ends.length - 1]!];
  return from.slice(0, 10) === to.slice(0, 10) ? `${utc(from).slice(0, 16)}–${to.slice(11, 16)} UTC` : `${utc(from)} – ${utc(to)}`;
}

// ---------------------------------------------------------------- docs/benchmarks.md

/** The part of docs/benchmarks.md between the perf markers. */
export function perfSection(run: PerfRun, chartLink: string | undefined): string {
  const results = byBench(run.results);
  const out: string[] = [
    '<!-- Written by `npm run bench:perf` (scripts/bench/perf.ts): a new run replaces everything between these markers. -->',
    '',
  ];
  if (results.length === 0) {
    out.push('No bench gave a result in the last run.', '');
  } else {
    const machines = [...new Set(results.map((r) => r.machine))];
    out.push(
      `\`npm run bench:perf\`, ${period(results)}, on the native stack started by \`npm run up\`: ` +
        `${machines.length === 1 ? machines[0] : 'machines below'}, with PostgreSQL, Kafka, Kafka Connect, ClickHouse (chDB) and the apps ` +
        'on the same cores. Each bench ran alone, one after the other, as the command below it says.',
      '',
    );
    out.push('| metric | ours | peer | limit | ours ÷ peer | goal |', '|---|---:|---:|---:|---:|---|');
    for (const r of results) {
      for (const m of r.metrics) {
        const ratio = ratioToPeer(m);
        out.push(
          `| ${cell(`${TITLES[r.bench]}: ${m.label}`)} (${m.unit}) | **${formatValue(value(m, 'ours'))}** | ${formatValue(value(m, 'peer'))} | ` +
            `${formatValue(value(m, 'limit'))} | ${ratio === undefined ? '–' : `${fmt(ratio, 2)}×`} | ${cell(goalCell(m))} |`,
        );
      }
    }
    const goals = results.flatMap((r) => r.metrics).filter((m) => m.goal);
    out.push(
      '',
      `Goals met: ${goals.filter((m) => m.goal!.met).length} of ${goals.length}. Ours ÷ peer is the measured ratio: above 1 is ahead ` +
        'for a rate, behind for a latency, CPU time or memory. – : the path does not apply; n/a: it ran without a figure (the notes say why).',
      '',
    );
    if (chartLink) out.push(`![Each metric relative to the peer: above 1 is better than the peer](${chartLink})`, '');
    out.push('What each column is, the exact commands and settings:', '');
    for (const r of results) {
      const names = (['ours', 'peer', 'limit'] as const).filter((p) => r.paths[p]).map((p) => `${p.charAt(0).toUpperCase()}${p.slice(1)}: ${r.paths[p]}`);
      const overrides = r.metrics.filter((m) => m.paths).map((m) => `for ${m.label}, ${Object.entries(m.paths!).map(([p, n]) => `${p}: ${n}`).join('; ')}`);
      const settings = Object.entries(r.settings).map(([k, v]) => `${k}=${String(v)}`).join(', ');
      out.push(
        `- **${TITLES[r.bench]}**: \`${r.command}\`, ${utc(r.startedAt)}${machines.length > 1 ? `, on ${r.machine}` : ''}. ` +
          `${[...names, ...overrides].join('; ')}.${settings ? ` Settings: ${settings}.` : ''}` +
          `${r.notes?.length ? ` ${r.notes.map((n) => n.charAt(0).toUpperCase() + n.slice(1)).join('. ')}.` : ''}`,
      );
    }
    out.push('');
  }
  if (run.failures.length > 0) {
    out.push('Not measured in this run:', '');
    for (const f of byBench(run.failures)) out.push(`- **${TITLES[f.bench]}**: \`${f.command}\` ${f.reason}`);
    out.push('');
  }
  return out.join('\n');
}

/** The README's lines between the headline markers: the goals, and where the rest is. */
export function headline(run: PerfRun, docsLink: string): string {
  const results = byBench(run.results);
  if (results.length === 0) return `No figures from the last \`npm run bench:perf\`: see [docs/benchmarks.md](${docsLink}).`;
  const lines = results.flatMap((r) =>
    r.metrics
      .filter((m) => m.goal)
      .map((m) => {
        const ratio = ratioToPeer(m);
        const figures = `${formatValue(value(m, 'ours'))} ${m.unit}${positive(value(m, 'peer')) ? ` against the peer's ${formatValue(value(m, 'peer'))}` : ''}`;
        return `- ${TITLES[r.bench]}, ${m.label}: ${figures}${ratio === undefined ? '' : ` (${fmt(ratio, 2)}×)`}; goal ${m.goal!.text}: ${m.goal!.met ? 'met' : '**not met**'}.`;
      }),
  );
  const goals = results.flatMap((r) => r.metrics).filter((m) => m.goal);
  const failed = run.failures.length ? ` Not measured: ${byBench(run.failures).map((f) => TITLES[f.bench]).join(', ')}.` : '';
  return [
    `**Against the peer** (\`npm run bench:perf\`, ${period(results)}, ${results[0]!.machine}): ` +
      `${goals.filter((m) => m.goal!.met).length} of ${goals.length} goals met.${failed} ` +
      `Every figure, the chart and the exact settings: [docs/benchmarks.md](${docsLink}).`,
    '',
    ...lines,
  ].join('\n');
}

// ---------------------------------------------------------------- commands

/**
 * `defaults` with every flag of `overrides` in place of the same flag, new flags added
 * at the end: `--changes 50000` over `--changes 200000 --writers 2` keeps `--writers 2`.
 * A flag's values are the words after it up to the next flag; `--flag=value` counts as
 * `--flag`.
 */
export function mergeFlags(defaults: string[], overrides: string[]): string[] {
  const groups = (words: string[]) => {
    const out: string[][] = [];
    for (const w of words) {
      if (w.startsWith('-') || out.length === 0) out.push([w]);
      else out[out.length - 1]!.push(w);
    }
    return out;
  };
  const key = (g: string[]) => g[0]!.split('=')[0]!;
  const merged = groups(defaults);
  for (const g of groups(overrides)) {
    const at = merged.findIndex((d) => key(d) === key(g));
    if (at === -1) merged.push(g);
    else merged[at] = g;
  }
  return merged.flat();
}

// ---------------------------------------------------------------- marked sections

/**
 * `doc` with the text between the markers replaced by `body`. Without the markers,
 * `whereAbsent` decides where the marked block goes; a lone or reversed marker is an
 * error, not something to guess around: it would duplicate or eat text.
 */
export function replaceMarked(
  doc: string,
  markers: { start: string; end: string },
  body: string,
  whereAbsent: (doc: string, block: string) => string,
): string {
  const start = doc.indexOf(markers.start);
  const end = doc.indexOf(markers.end);
  const block = `${markers.start}\n${body.trim()}\n${markers.end}`;
  if (start === -1 && end === -1) return whereAbsent(doc, block);
  if (start === -1 || end === -1 || end < start || doc.indexOf(markers.start, start + 1) !== -1) {
    throw new Error(`the markers ${markers.start} … ${markers.end} are not one pair in order`);
  }
  return doc.slice(0, start) + block + doc.slice(end + markers.end.length);
}

/** docs/benchmarks.md with the perf section replaced, or appended under its heading. */
export function withPerfSection(doc: string, body: string): string {
  return replaceMarked(doc, PERF_MARKERS, body, (d, block) => `${d.trimEnd()}\n\n${PERF_HEADING}\n\n${block}\n`);
}

/** README.md with the headline replaced, or put at the top of its measured figures. */
export function withHeadline(readme: string, body: string): string {
  return replaceMarked(readme, HEADLINE_MARKERS, body, (d, block) => {
    const heading = d.indexOf('\n## Measured figures\n');
    if (heading === -1) throw new Error('README has no "## Measured figures" section for the headline');
    // Before its first subsection: after the heading's own lines (machine, date).
    const next = d.slice(heading + 1).search(/\n##+ /);
    const at = next === -1 ? d.length : heading + 1 + next + 1;
    return `${d.slice(0, at)}${block}\n\n${d.slice(at)}`;
  });
}

// ---------------------------------------------------------------- chart

interface Bar {
  metric: string;
  path: string;
  value: number;
  label: string;
}

const PATH_LABELS: Partial<Record<PathName, string>> = { ours: 'ours', limit: 'limit (this machine)' };

/** One bar per path and metric that has a peer figure to compare with. */
export function chartBars(results: BenchResult[]): Bar[] {
  const bars: Bar[] = [];
  for (const r of byBench(results)) {
    for (const m of r.metrics) {
      for (const path of ['ours', 'limit'] as const) {
        const v = versusPeer(m, path);
        if (v !== undefined) bars.push({ metric: `${TITLES[r.bench]}: ${m.label}`, path: PATH_LABELS[path]!, value: v, label: `${fmt(v, 2)}×` });
      }
    }
  }
  return bars;
}

/** Grouped horizontal bars, every metric as "× the peer" (versusPeer), a rule at the peer. */
export function chartSpec(run: PerfRun): TopLevelSpec {
  const bars = chartBars(run.results);
  const when = run.results.length ? period(byBench(run.results)) : '';
  const font = 'sans-serif';
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: 'Against the peer: each metric as × the peer (1 = the peer)',
      subtitle: [
        'Above 1 is better than the peer: a higher rate, or a lower latency, CPU time or memory.',
        `npm run bench:perf, ${when}; metrics without a peer figure are in the table only.`,
      ],
      anchor: 'start',
    },
    width: 460,
    config: { font, view: { stroke: null }, axis: { labelFontSize: 11, titleFontSize: 11 }, legend: { labelFontSize: 11, titleFontSize: 11 } },
    layer: [
      {
        data: { values: bars },
        encoding: {
          y: { field: 'metric', type: 'nominal', sort: null, title: null, axis: { labelLimit: 480 } },
          yOffset: { field: 'path', sort: ['ours', 'limit (this machine)'] },
          x: { field: 'value', type: 'quantitative', title: '× the peer', scale: { zero: true } },
          color: {
            field: 'path',
            type: 'nominal',
            title: null,
            scale: { domain: ['ours', 'limit (this machine)'], range: ['#1f6fb2', '#b8b8b8'] },
            legend: { orient: 'bottom', labelLimit: 300 },
          },
        },
        layer: [
          { mark: { type: 'bar', height: { band: 0.9 } } },
          { mark: { type: 'text', align: 'left', dx: 3, fontSize: 10 }, encoding: { text: { field: 'label' }, color: { value: '#333333' } } },
        ],
      },
      {
        data: { values: [{ x: 1 }] },
        layer: [
          { mark: { type: 'rule', color: '#d62728', strokeWidth: 1.5, strokeDash: [4, 3] }, encoding: { x: { field: 'x', type: 'quantitative' } } },
          {
            mark: { type: 'text', color: '#d62728', align: 'left', baseline: 'top', dx: 3, y: 0, fontSize: 10, text: 'the peer' },
            encoding: { x: { field: 'x', type: 'quantitative' } },
          },
        ],
      },
    ],
  };
}

/** The spec as SVG, without a canvas: vega's headless renderer estimates text widths. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
