import type { GroupInfo } from '@cdc/kafka';
import type { TopicInfo } from '@cdc/kafka';

/**
 * Human-readable tables for `topics` and `groups`. Columns are padded to the widest
 * cell; numbers are right-aligned so magnitudes line up. The --json output is the
 * TopicInfo/GroupInfo objects themselves, not these strings.
 */
export function table(headers: readonly string[], rows: readonly (readonly (string | number)[])[], rightAligned: ReadonlySet<number> = new Set()): string {
  const cells = [headers, ...rows].map((r) => r.map(String));
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells
    .map((r) =>
      r
        .map((c, i) => (rightAligned.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

const dash = (n: number | null) => (n === null ? '-' : n);

export function formatTopics(topics: readonly TopicInfo[]): string {
  if (topics.length === 0) return '(no topics)';
  return table(
    ['TOPIC', 'INTERNAL', 'CLEANUP.POLICY', 'PARTITIONS', 'MESSAGES~', 'HIGH WATERMARKS (partition:offset)'],
    topics.map((t) => [
      t.topic,
      t.internal ? 'yes' : '',
      t.cleanupPolicy,
      t.partitions.length,
      t.messages,
      t.partitions.map((p) => `${p.partition}:${p.high}`).join(' '),
    ]),
    new Set([3, 4]),
  );
}

export function formatGroups(groups: readonly GroupInfo[]): string {
  if (groups.length === 0) return '(no consumer groups)';
  return groups.map(formatGroup).join('\n\n');
}

function formatGroup(g: GroupInfo): string {
  const head =
    `GROUP ${g.group}  state=${g.state}  members=${g.members.length}` +
    (g.protocolType ? `  type=${g.protocolType}` : '') +
    (g.protocol ? `  assignor=${g.protocol}` : '') +
    `  total lag=${g.totalLag ?? '-'}`;
  if (g.partitions.length === 0) return `${head}\n  (no committed offsets)`;
  const body = table(
    ['TOPIC', 'PARTITION', 'COMMITTED', 'HIGH', 'LAG', 'MEMBER'],
    g.partitions.map((p) => [p.topic, p.partition, dash(p.committed), dash(p.high), dash(p.lag), p.member ?? '-']),
    new Set([1, 2, 3, 4]),
  );
  return `${head}\n${body.replace(/^/gm, '  ')}`;
}
