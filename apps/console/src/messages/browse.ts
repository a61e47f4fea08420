import type { Admin } from 'kafkajs';
import type { PartitionReader, RawMessage } from '@cdc/kafka';

/** One partition's readable offsets [low, high) and where a newest-first read ends. */
export interface PartitionRange {
  partition: number;
  low: bigint;
  high: bigint;
  /** Exclusive: the page or scan reads offsets below it, newest first. */
  end: bigint;
}

const max = (a: bigint, b: bigint) => (a > b ? a : b);
const min = (a: bigint, b: bigint) => (a < b ? a : b);

/**
 * The partitions to read and where each read ends: the high watermark, or an offset
 * the caller asked for (a page "older" than the last), or the first offset at or after
 * a timestamp (so the page shows what came before it).
 */
export async function partitionRanges(
  admin: Admin,
  topic: string,
  opts: { partition?: number; offset?: bigint; timestamp?: number },
): Promise<PartitionRange[]> {
  const offsets = await admin.fetchTopicOffsets(topic);
  const byTime =
    opts.timestamp === undefined
      ? undefined
      : new Map((await admin.fetchTopicOffsetsByTimestamp(topic, opts.timestamp)).map((o) => [o.partition, BigInt(o.offset)]));
  return offsets
    .filter((o) => opts.partition === undefined || o.partition === opts.partition)
    .sort((a, b) => a.partition - b.partition)
    .map((o) => {
      const low = BigInt(o.low);
      const high = BigInt(o.high);
      let end = high;
      if (opts.offset !== undefined) end = opts.offset + 1n;
      const t = byTime?.get(o.partition);
      if (t !== undefined && t >= 0n) end = t;
      return { partition: o.partition, low, high, end: min(max(end, low), high) };
    });
}

/**
 * The newest `limit` messages below each range's end, across partitions by
 * timestamp, newest first. Reads at most `limit` offsets per partition: the first
 * page of a topic of any size costs one small fetch per partition.
 */
export async function newestPage(
  reader: PartitionReader,
  topic: string,
  ranges: readonly PartitionRange[],
  limit: number,
): Promise<{ messages: RawMessage[]; older: { partition: number; offset: string }[] }> {
  const perPartition = await Promise.all(
    ranges.map((r) => reader.read(topic, r.partition, max(r.low, r.end - BigInt(limit)), r.end, { fetchBytes: 1 << 20 })),
  );
  const all = perPartition.flat().sort((a, b) => Number(b.timestamp) - Number(a.timestamp) || (BigInt(b.offset) > BigInt(a.offset) ? 1 : -1));
  const messages = all.slice(0, limit);
  const older = ranges.flatMap((r) => {
    const shown = messages.filter((m) => m.partition === r.partition);
    const oldest = shown.length > 0 ? shown.reduce((lo, m) => min(lo, BigInt(m.offset)), r.end) : r.end;
    // "offset" of the next page is inclusive, like the browser's own offset box.
    return oldest > r.low ? [{ partition: r.partition, offset: String(oldest - 1n) }] : [];
  });
  return { messages, older };
}

/**
 * Windows of each partition from its end backwards, newest first, the partitions
 * taken in turn; each window's messages in descending offset order. Ends after
 * `scanLimit` offsets in all or when every partition reached its low watermark.
 */
export async function* scanNewestFirst(
  reader: PartitionReader,
  topic: string,
  ranges: readonly PartitionRange[],
  scanLimit: number,
  window = 2_000,
): AsyncGenerator<{ messages: RawMessage[]; offsets: number }> {
  const cursor = new Map(ranges.map((r) => [r.partition, r.end]));
  let budget = BigInt(scanLimit);
  while (budget > 0n) {
    let progressed = false;
    for (const r of ranges) {
      const end = cursor.get(r.partition)!;
      if (end <= r.low || budget <= 0n) continue;
      const take = min(min(BigInt(window), budget), end - r.low);
      const start = end - take;
      const messages = await reader.read(topic, r.partition, start, end, { fetchBytes: 1 << 20 });
      cursor.set(r.partition, start);
      budget -= take;
      progressed = true;
      yield { messages: messages.reverse(), offsets: Number(take) };
    }
    if (!progressed) return;
  }
}

/** Offsets a scan would cover: the search's "total". */
export function scanTotal(ranges: readonly PartitionRange[], scanLimit: number): number {
  const all = ranges.reduce((n, r) => n + Number(r.end - r.low), 0);
  return Math.min(all, scanLimit);
}
