import { describe, expect, it } from 'vitest';
import {
  chartBars,
  chartSpec,
  headline,
  HEADLINE_MARKERS,
  mergeFlags,
  perfSection,
  PERF_HEADING,
  PERF_MARKERS,
  ratioToPeer,
  renderSvg,
  replaceMarked,
  versusPeer,
  withHeadline,
  withPerfSection,
  type PerfRun,
} from './report.js';
import { commandLine, type BenchResult } from './results.js';

// Figures of the 2026-12-07 runs in docs/benchmarks.md, so a reader can check them by eye.
const MACHINE = '2 × AMD EPYC, 23.5 GiB RAM, Debian GNU/Linux 12 (bookworm), Linux 6.18.44, Node v20.20.2';
const cdc: BenchResult = {
  bench: 'cdc',
  startedAt: '2026-12-07T12:00:05.000Z',
  finishedAt: '2026-12-07T12:21:40.000Z',
  machine: MACHINE,
  command: 'npm run bench:cdc -- --changes 200000 --writers 2 --backlog 1000000',
  paths: { ours: 'Debezium → Kafka → ClickHouse', peer: 'ClickHouse MaterializedPostgreSQL', limit: "PostgreSQL commits (the writers' ceiling)" },
  settings: { changes: 200000, writers: 2, backlog: 1000000, peer: true },
  metrics: [
    {
      id: 'cdc.sustained', label: 'sustained throughput', unit: 'changes/s', better: 'higher',
      values: { ours: 6188, peer: 8056, limit: 9084 }, goal: { text: '≥ 1.2× the peer', met: false },
    },
    { id: 'cdc.quiet_p50', label: 'freshness when quiet, p50', unit: 'ms', better: 'lower', values: { ours: 189, peer: 118 } },
    {
      id: 'cdc.load_p50', label: 'freshness under load, p50', unit: 'ms', better: 'lower',
      values: { ours: 800, peer: 839 }, goal: { text: "≤ the peer's", met: true },
    },
    { id: 'cdc.backlog_drain', label: 'backlog drain (1,000,000 changes)', unit: 'changes/s', better: 'higher', values: { ours: 10021, peer: null } },
  ],
  notes: ['load average at the end 3.10 / 5.70 / 5.80', 'the peer cannot be paused, so it has no drain figure'],
};
const processor: BenchResult = {
  bench: 'processor',
  startedAt: '2026-12-07T12:22:00.000Z',
  finishedAt: '2026-12-07T12:31:10.000Z',
  machine: MACHINE,
  command: 'npm run bench:processor -- --events 100000',
  paths: { ours: 'stream processor', peer: 'ClickHouse Kafka engine', limit: "PostgreSQL commits (the writer's ceiling)" },
  settings: { events: 100000 },
  metrics: [
    {
      id: 'processor.events_per_s', label: 'events/s, processor vs Kafka engine', unit: 'events/s', better: 'higher',
      values: { ours: 4432, peer: 9419, limit: 15054 }, goal: { text: '≥ 1.0× the Kafka engine', met: false },
    },
    { id: 'processor.peak_rss', label: 'processor peak RSS under load', unit: 'MiB', better: 'lower', values: { ours: 237 }, goal: { text: '≤ 256 MB', met: true } },
  ],
};
const run: PerfRun = {
  results: [processor, cdc], // out of order on purpose: the report puts CDC first
  failures: [{ bench: 'snapshot', command: 'npm run bench:snapshot -- --rows 10000000', reason: 'exited with code 1: Missing script: "bench:snapshot"' }],
};

const rowOf = (md: string, start: string) => md.split('\n').find((l) => l.startsWith(`| ${start}`));

describe('ratios', () => {
  it('ratioToPeer is ours ÷ peer as measured; versusPeer turns "lower is better" around', () => {
    const [sustained, quiet, , drain] = cdc.metrics;
    expect(ratioToPeer(sustained!)).toBeCloseTo(6188 / 8056, 10);
    expect(versusPeer(sustained!, 'limit')).toBeCloseTo(9084 / 8056, 10);
    expect(ratioToPeer(quiet!)).toBeCloseTo(189 / 118, 10);
    expect(versusPeer(quiet!, 'ours')).toBeCloseTo(118 / 189, 10);
    expect(ratioToPeer(drain!)).toBeUndefined();
    expect(versusPeer(drain!, 'ours')).toBeUndefined();
  });
});

describe('perfSection', () => {
  const md = perfSection(run, 'benchmarks/perf.svg');

  it('has one row per metric with the figures, the ratio and the goal', () => {
    expect(rowOf(md, 'CDC: sustained throughput')).toBe(
      '| CDC: sustained throughput (changes/s) | **6,188** | 8,056 | 9,084 | 0.77× | **not met**: ≥ 1.2× the peer |',
    );
    expect(rowOf(md, 'CDC: freshness under load')).toBe("| CDC: freshness under load, p50 (ms) | **800** | 839 | – | 0.95× | met: ≤ the peer's |");
    expect(rowOf(md, 'CDC: freshness when quiet')).toBe('| CDC: freshness when quiet, p50 (ms) | **189** | 118 | – | 1.60× |  |');
    expect(rowOf(md, 'CDC: backlog drain')).toBe('| CDC: backlog drain (1,000,000 changes) (changes/s) | **10,021** | n/a | – | – |  |');
    expect(rowOf(md, 'Stream processor: events/s')).toContain('| **4,432** | 9,419 | 15,054 | 0.47× | **not met**: ≥ 1.0× the Kafka engine |');
    expect(rowOf(md, 'Stream processor: processor peak RSS')).toContain('| **237** | – | – | – | met: ≤ 256 MB |');
    expect(md).toContain('Goals met: 2 of 4.');
  });

  it('orders the benches, says when, where and how, links the chart and names what failed', () => {
    expect(md.indexOf('| CDC: sustained')).toBeLessThan(md.indexOf('| Stream processor:'));
    expect(md).toContain('2026-12-07 12:00–12:31 UTC');
    expect(md).toContain(MACHINE);
    expect(md).toContain('`npm run bench:cdc -- --changes 200000 --writers 2 --backlog 1000000`');
    expect(md).toContain('changes=200000, writers=2, backlog=1000000, peer=true');
    expect(md).toContain('Load average at the end 3.10 / 5.70 / 5.80');
    expect(md).toContain('](benchmarks/perf.svg)');
    expect(md).toMatch(/\*\*Initial snapshot\*\*: `npm run bench:snapshot -- --rows 10000000` exited with code 1/);
    expect(perfSection(run, undefined)).not.toContain('perf.svg');
  });
});

describe('headline', () => {
  it('lists each goal with its figures and links to the section', () => {
    const h = headline(run, 'docs/benchmarks.md#performance-against-the-peer-issue-14');
    expect(h).toContain('2 of 4 goals met');
    expect(h).toContain("- CDC, sustained throughput: 6,188 changes/s against the peer's 8,056 (0.77×); goal ≥ 1.2× the peer: **not met**.");
    expect(h).toContain('- Stream processor, processor peak RSS under load: 237 MiB; goal ≤ 256 MB: met.');
    expect(h).toContain('Not measured: Initial snapshot.');
    expect(h).toContain('](docs/benchmarks.md#performance-against-the-peer-issue-14)');
  });
});

describe('marked sections', () => {
  const docs = '# Benchmarks\n\nIntro.\n\n## Console (issue 13)\n\nFigures.\n';

  it('appends the section once, then replaces it in place', () => {
    const first = withPerfSection(docs, 'run one');
    expect(first).toBe(`${docs}\n${PERF_HEADING}\n\n${PERF_MARKERS.start}\nrun one\n${PERF_MARKERS.end}\n`);
    const second = withPerfSection(`${first}\n## Later section\n\nKept.\n`, 'run two');
    expect(second.split(PERF_HEADING)).toHaveLength(2);
    expect(second.split(PERF_MARKERS.start)).toHaveLength(2);
    expect(second).toContain(`${PERF_MARKERS.start}\nrun two\n${PERF_MARKERS.end}\n\n## Later section\n\nKept.\n`);
    expect(second).not.toContain('run one');
  });

  it('refuses a lone or reversed marker instead of guessing', () => {
    const lone = `${docs}${PERF_MARKERS.start}\nold\n`;
    expect(() => withPerfSection(lone, 'x')).toThrow(/not one pair/);
    const reversed = `${PERF_MARKERS.end}\n${PERF_MARKERS.start}\n`;
    expect(() => replaceMarked(reversed, PERF_MARKERS, 'x', (d) => d)).toThrow(/not one pair/);
  });

  it('puts the README headline at the top of the measured figures, then replaces it there', () => {
    const readme = '# Title\n\n## Tests\n\nx\n\n## Measured figures\n\nMachine: 2 cores.\n\n### Native stack (issue 2)\n\ny\n';
    const once = withHeadline(readme, 'headline one');
    expect(once).toContain(`Machine: 2 cores.\n\n${HEADLINE_MARKERS.start}\nheadline one\n${HEADLINE_MARKERS.end}\n\n### Native stack (issue 2)`);
    const twice = withHeadline(once, 'headline two');
    expect(twice).toBe(once.replace('headline one', 'headline two'));
    expect(() => withHeadline('# no such section\n', 'x')).toThrow(/Measured figures/);
  });
});

describe('chart', () => {
  it('has a bar for ours and the limit wherever there is a peer figure', () => {
    const bars = chartBars(run.results);
    expect(bars.map((b) => `${b.metric} ${b.path} ${b.label}`)).toEqual([
      'CDC: sustained throughput ours 0.77×',
      'CDC: sustained throughput limit (this machine) 1.13×',
      'CDC: freshness when quiet, p50 ours 0.62×',
      'CDC: freshness under load, p50 ours 1.05×',
      'Stream processor: events/s, processor vs Kafka engine ours 0.47×',
      'Stream processor: events/s, processor vs Kafka engine limit (this machine) 1.60×',
    ]);
  });

  it('renders to a self-contained SVG with its labels', async () => {
    const svg = await renderSvg(chartSpec(run));
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg).toContain('CDC: sustained throughput');
    expect(svg).toContain('0.77×');
    expect(svg).toContain('the peer');
    expect(svg).toContain('font-family="sans-serif"');
    // Nothing fetched when GitHub shows it: no external fonts, images or stylesheets.
    expect(svg).not.toMatch(/(href|src)="https?:|@import|url\(http/);
    // Every element closed: as many closing tags as opening ones that are not self-closed.
    const opened = svg.match(/<[a-zA-Z][^>]*[^/]>|<[a-zA-Z]>/g) ?? [];
    const closed = svg.match(/<\/[a-zA-Z]+>/g) ?? [];
    expect(closed.length).toBe(opened.length);
  });
});

describe('commandLine', () => {
  it('gives the command as retyped, without the --json file', () => {
    expect(commandLine('cdc', ['--changes', '200000', '--json', '/tmp/x/cdc.json', '--writers', '2'])).toBe('npm run bench:cdc -- --changes 200000 --writers 2');
    expect(commandLine('processor', ['--json=/tmp/p.json'])).toBe('npm run bench:processor');
  });
});

describe('mergeFlags', () => {
  it('replaces a default flag, keeps the others, adds new ones at the end', () => {
    const defaults = ['--changes', '200000', '--writers', '2', '--backlog', '1000000'];
    expect(mergeFlags(defaults, ['--changes', '50000', '--skip-peer'])).toEqual(['--changes', '50000', '--writers', '2', '--backlog', '1000000', '--skip-peer']);
    expect(mergeFlags(defaults, ['--backlog=0'])).toEqual(['--changes', '200000', '--writers', '2', '--backlog=0']);
    expect(mergeFlags(defaults, [])).toEqual(defaults);
  });
});
