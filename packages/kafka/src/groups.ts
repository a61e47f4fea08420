import { AssignerProtocol, type Admin, type GroupDescription } from 'kafkajs';
import { KafkaInspectError } from './errors.js';

/**
 * Consumer groups with their lag: per topic-partition the committed offset against the
 * high watermark. Lag is computed here, not taken from kafkajs' resolveOffsets (which
 * rewrites the committed offset itself), so "nothing committed" stays visible as null.
 */
export interface PartitionLag {
  topic: string;
  partition: number;
  /** null: the group has committed nothing for this partition. */
  committed: number | null;
  /** null: the topic no longer exists. */
  high: number | null;
  /** high − committed; null when nothing is committed (the group's auto.offset.reset decides). */
  lag: number | null;
  /** client id of the member the partition is assigned to, if a member has it. */
  member: string | null;
}

export interface GroupInfo {
  group: string;
  state: string;
  protocolType: string;
  protocol: string;
  members: { memberId: string; clientId: string; host: string }[];
  partitions: PartitionLag[];
  /** Sum of the known lags; null when no partition has a committed offset. */
  totalLag: number | null;
}

export async function describeGroups(admin: Admin, only?: readonly string[]): Promise<GroupInfo[]> {
  const listed = (await admin.listGroups()).groups;
  const ids = only && only.length > 0 ? [...only] : listed.map((g) => g.groupId).sort();
  if (ids.length === 0) return [];
  const descriptions = new Map((await admin.describeGroups(ids)).groups.map((d) => [d.groupId, d]));

  const groups: GroupInfo[] = [];
  for (const id of ids) {
    const d = descriptions.get(id);
    let committed;
    try {
      committed = await admin.fetchOffsets({ groupId: id });
    } catch (err) {
      throw new KafkaInspectError(`consumer group ${id}: fetching committed offsets failed: ${(err as Error).message}`, { cause: err });
    }
    // A group the broker does not know describes as Dead with nothing in it.
    if (only?.includes(id) && (!d || d.state === 'Dead') && committed.length === 0) {
      throw new KafkaInspectError(`consumer group ${id} does not exist`);
    }
    const high = new Map<string, number>();
    for (const topic of new Set(committed.map((t) => t.topic))) {
      try {
        for (const o of await admin.fetchTopicOffsets(topic)) high.set(`${topic}/${o.partition}`, Number(o.high));
      } catch (err) {
        // The group may still hold offsets of a deleted topic: shown without a watermark.
        if ((err as { type?: string }).type !== 'UNKNOWN_TOPIC_OR_PARTITION') {
          throw new KafkaInspectError(`topic ${topic} (consumer group ${id}): fetching offsets failed: ${(err as Error).message}`, { cause: err });
        }
      }
    }
    const owners = d ? assignmentOwners(d) : new Map<string, string>();
    const partitions = committed.flatMap((t) =>
      t.partitions.map((p) =>
        partitionLag(t.topic, p.partition, p.offset, high.get(`${t.topic}/${p.partition}`) ?? null, owners.get(`${t.topic}/${p.partition}`) ?? null),
      ),
    );
    partitions.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
    groups.push({
      group: id,
      state: d?.state ?? 'Unknown',
      protocolType: d?.protocolType ?? '',
      protocol: d?.protocol ?? '',
      members: (d?.members ?? []).map((m) => ({ memberId: m.memberId, clientId: m.clientId, host: m.clientHost })),
      partitions,
      totalLag: totalLag(partitions),
    });
  }
  return groups;
}

/** committed "-1" is Kafka's "no offset committed". A missing watermark (deleted topic) gives no lag. */
export function partitionLag(topic: string, partition: number, committed: string, high: number | null, member: string | null): PartitionLag {
  const c = Number(committed);
  const hasCommit = c >= 0;
  return {
    topic,
    partition,
    committed: hasCommit ? c : null,
    high,
    lag: hasCommit && high !== null ? Math.max(0, high - c) : null,
    member,
  };
}

export function totalLag(partitions: readonly PartitionLag[]): number | null {
  const known = partitions.filter((p) => p.lag !== null);
  return known.length === 0 ? null : known.reduce((sum, p) => sum + p.lag!, 0);
}

/**
 * topic/partition → client id, from the members' assignments. Only consumer groups
 * carry the consumer protocol's assignment encoding; Connect workers' assignments
 * (protocolType "connect") are a different format and are skipped.
 */
function assignmentOwners(d: GroupDescription): Map<string, string> {
  const owners = new Map<string, string>();
  if (d.protocolType !== 'consumer') return owners;
  for (const m of d.members) {
    if (m.memberAssignment.length === 0) continue;
    try {
      const decoded = AssignerProtocol.MemberAssignment.decode(m.memberAssignment);
      for (const [topic, parts] of Object.entries(decoded?.assignment ?? {})) {
        for (const p of parts) owners.set(`${topic}/${p}`, m.clientId);
      }
    } catch {
      // An assignment this client cannot parse only loses the MEMBER column.
    }
  }
  return owners;
}
