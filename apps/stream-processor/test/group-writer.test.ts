import { describe, expect, it } from 'vitest';
import { emptyEnriched, emptyTouched, type EnrichedRow } from '../src/enrich.js';
import { GroupWriter, merge, type ChunkWrites } from '../src/group-writer.js';

/** A chunk of `n` rows for user `user` (only the fields the writer looks at matter). */
function chunk(user: number, n: number, minute = 0): ChunkWrites {
  const enriched = emptyEnriched();
  const touched = emptyTouched();
  for (let i = 0; i < n; i++) enriched.rows.push({ user_id: user, id: i } as EnrichedRow);
  touched.users.add(user);
  touched.minutes.set(`${minute}|t|m`, { minute, prosthesis_type: 't', muscle_group: 'm' });
  return { enriched, touched };
}

function deferred() {
  let release!: () => void;
  const promise = new Promise<void>((r) => (release = r));
  return { promise, release };
}

describe('GroupWriter', () => {
  it('writes a chunk alone and at once when nothing else waits', async () => {
    const groups: ChunkWrites[] = [];
    const writer = new GroupWriter(async (g) => void groups.push(g), 1000);
    await writer.submit(chunk(1, 3));
    expect(groups).toHaveLength(1);
    expect(groups[0]!.enriched.rows).toHaveLength(3);
  });

  it('puts every chunk that arrived during a write into the next group, in arrival order, and never overlaps writes', async () => {
    const gate = deferred();
    const groups: number[][] = [];
    let active = 0;
    let maxActive = 0;
    const writer = new GroupWriter(async (g) => {
      active++;
      maxActive = Math.max(maxActive, active);
      if (groups.length === 0) await gate.promise;
      groups.push(g.enriched.rows.map((r) => r.user_id));
      active--;
    }, 1000);
    const first = writer.submit(chunk(1, 1));
    const rest = [writer.submit(chunk(2, 1)), writer.submit(chunk(3, 2)), writer.submit(chunk(4, 1))];
    expect(writer.waiting).toBe(3);
    gate.release();
    await Promise.all([first, ...rest]);
    expect(groups).toEqual([[1], [2, 3, 3, 4]]);
    expect(maxActive).toBe(1);
  });

  it('stops a group at maxRows, but lets a single larger chunk through alone', async () => {
    const gate = deferred();
    const sizes: number[] = [];
    const writer = new GroupWriter(async (g) => {
      if (sizes.length === 0) await gate.promise;
      sizes.push(g.enriched.rows.length);
    }, 10);
    const all = [writer.submit(chunk(1, 1)), writer.submit(chunk(2, 4)), writer.submit(chunk(3, 5)), writer.submit(chunk(4, 2)), writer.submit(chunk(5, 25))];
    gate.release();
    await Promise.all(all);
    expect(sizes).toEqual([1, 9, 2, 25]);
  });

  it('rejects every chunk of a failed group, and goes on with the next group', async () => {
    const gate = deferred();
    let calls = 0;
    const writer = new GroupWriter(async (g) => {
      calls++;
      if (calls === 1) await gate.promise;
      if (g.touched.users.has(2)) throw new Error('ClickHouse said no');
    }, 1000);
    const first = writer.submit(chunk(1, 1));
    const failed = [writer.submit(chunk(2, 1)), writer.submit(chunk(3, 1))];
    gate.release();
    await first;
    const settled = await Promise.allSettled(failed);
    expect(settled.map((s) => s.status)).toEqual(['rejected', 'rejected']);
    await expect(writer.submit(chunk(4, 1))).resolves.toBeUndefined();
    expect(calls).toBe(3);
  });

  it('merges rows, tombstones and touched keys, and heartbeats every chunk', async () => {
    const beats: number[] = [];
    const a = { ...chunk(1, 2, 60), heartbeat: async () => void beats.push(1) };
    const b = { ...chunk(2, 1, 120), heartbeat: async () => void beats.push(2) };
    b.enriched.tombstones.push({ user_id: 9 } as EnrichedRow);
    b.touched.unknownUsers.add(2);
    const m = merge([a, b]);
    expect(m.enriched.rows.map((r) => r.user_id)).toEqual([1, 1, 2]);
    expect(m.enriched.tombstones).toHaveLength(1);
    expect([...m.touched.users]).toEqual([1, 2]);
    expect([...m.touched.minutes.keys()]).toEqual(['60|t|m', '120|t|m']);
    expect([...m.touched.unknownUsers]).toEqual([2]);
    await m.heartbeat!();
    expect(beats.sort()).toEqual([1, 2]);
  });
});
