import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Session } from 'chdb';

/** Seeded bytes (mulberry32), so a failing case can be replayed. */
export function randomBytes(length: number, seed: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  let a = seed >>> 0;
  for (let i = 0; i < length; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = (t ^ (t >>> 14)) & 0xff;
  }
  return out;
}

/** Text shaped like a query result: compresses well, but not trivially. */
export function tsvBytes(length: number, seed: number): Buffer {
  const noise = randomBytes(Math.ceil(length / 8) + 16, seed);
  const lines: string[] = [];
  let size = 0;
  for (let i = 0; size < length; i++) {
    const line = `${i}\tuser_${noise[i % noise.length]! * 37}\t2024-01-${String((i % 28) + 1).padStart(2, '0')} 12:00:00\t${(noise[(i * 7) % noise.length]! / 3).toFixed(3)}\n`;
    lines.push(line);
    size += line.length;
  }
  return Buffer.from(lines.join('')).subarray(0, length);
}

/**
 * A chDB session over a fresh directory. chDB binds one data path per
 * process, and vitest runs each test file in its own process, so each file
 * opens one of these at most.
 */
export function openChdb(): { session: Session; dir: string; close(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'chdb-codec-test-'));
  const session = new Session(join(dir, 'data'));
  return {
    session,
    dir,
    close() {
      session.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** MB/s for `bytes` processed `rounds` times by `fn`, after a warm-up round. */
export function throughput(bytes: number, rounds: number, fn: () => void): number {
  fn();
  const start = process.hrtime.bigint();
  for (let i = 0; i < rounds; i++) fn();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return (bytes * rounds) / (1 << 20) / seconds;
}
