import { emptyEnriched, emptyTouched, type Enriched, type Touched } from './enrich.js';

/** What one chunk of events has to write to ClickHouse. */
export interface ChunkWrites {
  enriched: Enriched;
  touched: Touched;
  /** Keeps the consumer that fetched the chunk in its group while a write is slow. */
  heartbeat?: () => Promise<void>;
}

/** Performs one group's writes: the merged rows, then the merged recomputes. */
export type WriteGroup = (group: ChunkWrites) => Promise<void>;

interface Waiting {
  chunk: ChunkWrites;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit for the processor's ClickHouse writes. Chunks from different
 * partitions arrive concurrently; they are written one group at a time, in arrival
 * order, and every chunk that arrived while a group was being written joins the next
 * group. A group costs one insert and one recompute per aggregate, whatever
 * the number of chunks in it, and a recompute's cost is set by the keys it reads, not
 * by the events that touched them; so under load the cost per event falls, and when
 * quiet a chunk is written alone, at once.
 *
 * Writes never overlap, which keeps the single-writer order the aggregates rely on:
 * every recompute starts after the inserts of every chunk submitted before it.
 * A chunk's promise settles when its group is written (or failed: every chunk of a
 * failed group is rejected, and none of their offsets may be committed).
 */
export class GroupWriter {
  readonly #write: WriteGroup;
  readonly #maxRows: number;
  #waiting: Waiting[] = [];
  #running = false;

  /** @param maxRows a group stops taking chunks once it holds this many rows (a single bigger chunk still goes alone). */
  constructor(write: WriteGroup, maxRows: number) {
    this.#write = write;
    this.#maxRows = maxRows;
  }

  submit(chunk: ChunkWrites): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#waiting.push({ chunk, resolve, reject });
      if (!this.#running) void this.#drain();
    });
  }

  /** Chunks waiting for a group (for metrics and tests). */
  get waiting(): number {
    return this.#waiting.length;
  }

  async #drain(): Promise<void> {
    this.#running = true;
    try {
      while (this.#waiting.length > 0) {
        const group = this.#takeGroup();
        try {
          await this.#write(merge(group.map((w) => w.chunk)));
          for (const w of group) w.resolve();
        } catch (err) {
          for (const w of group) w.reject(err);
        }
      }
    } finally {
      this.#running = false;
    }
  }

  #takeGroup(): Waiting[] {
    let rows = 0;
    let n = 0;
    while (n < this.#waiting.length) {
      const size = rowsOf(this.#waiting[n]!.chunk.enriched);
      if (n > 0 && rows + size > this.#maxRows) break;
      rows += size;
      n++;
    }
    return this.#waiting.splice(0, n);
  }
}

function rowsOf(e: Enriched): number {
  return e.rows.length + e.tombstones.length;
}

/** One group's writes as one chunk's: rows concatenated, touched keys united (the output topic's `changes` stay with their chunks). */
export function merge(chunks: ChunkWrites[]): ChunkWrites {
  if (chunks.length === 1) return chunks[0]!;
  const enriched = emptyEnriched();
  const touched = emptyTouched();
  for (const c of chunks) {
    // Not push(...rows): a chunk can hold more rows than a call takes arguments.
    append(enriched.rows, c.enriched.rows);
    append(enriched.tombstones, c.enriched.tombstones);
    // Not `changes`: each chunk publishes its own records to the output topic.
    for (const [k, v] of c.touched.minutes) touched.minutes.set(k, v);
    for (const u of c.touched.users) touched.users.add(u);
    for (const u of c.touched.unknownUsers) touched.unknownUsers.add(u);
  }
  const beats = chunks.map((c) => c.heartbeat).filter((h): h is () => Promise<void> => h !== undefined);
  return { enriched, touched, heartbeat: beats.length ? () => Promise.all(beats.map((h) => h())).then(() => undefined) : undefined };
}

function append<T>(to: T[], from: readonly T[]): void {
  for (const x of from) to.push(x);
}
