import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { generateRecords, mulberry32, TELEMETRY_BAD_KINDS, USER_BAD_KINDS, writeCsv, type GenerateOptions } from '../generator.js';

// Unit tests of the CSV generator: no database.

const ROOT = join(import.meta.dirname, '../../..');
const TSX = join(ROOT, 'node_modules/.bin/tsx');

async function sha256Of(o: GenerateOptions): Promise<string> {
  const h = createHash('sha256');
  const sink = new Writable({
    write(chunk, _enc, cb) {
      h.update(chunk);
      cb();
    },
  });
  await writeCsv(o, sink);
  return h.digest('hex');
}

/** Runs the CLI; resolves with the sha256 of stdout (or of its first `limit` bytes, then kills it). */
function cliSha256(args: string[], limit = Infinity): Promise<{ sha: string; bytes: number; code: number | null; killed: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(TSX, ['scripts/import/generate.ts', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    const h = createHash('sha256');
    let bytes = 0;
    let killed = false;
    child.stdout.on('data', (b: Buffer) => {
      if (killed) return;
      const take = b.subarray(0, Math.max(0, Math.min(b.length, limit - bytes)));
      h.update(take);
      bytes += take.length;
      if (bytes >= limit) {
        killed = true;
        child.kill('SIGTERM');
      }
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ sha: h.digest('hex'), bytes, code, killed }));
  });
}

describe('generator', () => {
  it('mulberry32 is the reference sequence (seed 1 → 0.6270739405…)', () => {
    const r = mulberry32(1);
    expect([r(), r(), r()].map((x) => x.toFixed(8))).toEqual(['0.62707394', '0.00273572', '0.52744704']);
  });

  it('same seed → byte-identical file (sha256), in-process and through the CLI; another seed differs', async () => {
    for (const o of [
      { kind: 'users', rows: 3_000, seed: 42, badEvery: 7 },
      { kind: 'telemetry', rows: 3_000, seed: 42, badEvery: 5, withUuid: true },
    ] as GenerateOptions[]) {
      const a = await sha256Of(o);
      expect(await sha256Of(o)).toBe(a);
      expect(await sha256Of({ ...o, seed: 43 })).not.toBe(a);
      const args = [o.kind, '--rows', String(o.rows), '--seed', String(o.seed), '--bad-every', String(o.badEvery)];
      if (o.withUuid) args.push('--with-uuid');
      const cli = await cliSha256(args);
      expect(cli.code).toBe(0);
      expect(cli.sha).toBe(a);
    }
  });

  it('streams: rows are produced lazily (a trillion-row generator answers at once)', () => {
    const it = generateRecords({ kind: 'telemetry', rows: 1e12, seed: 1 });
    const first = [...Array(5)].map(() => it.next().value!);
    expect(first[0]!.status).toBe('header');
    expect(first.slice(1).every((r) => r.status === 'ok' && r.text.endsWith('\n'))).toBe(true);
  });

  it('streams: the CLI writes output long before a huge file would be complete', async () => {
    const t0 = Date.now();
    // 10^9 rows would be ~85 GB: getting the first MB and stopping proves nothing is accumulated first.
    const r = await cliSha256(['telemetry', '--rows', '1000000000', '--seed', '1'], 1 << 20);
    expect(r.bytes).toBe(1 << 20);
    expect(r.killed).toBe(true);
    expect(Date.now() - t0).toBeLessThan(30_000);
  });

  it('--bad-every K corrupts exactly every K-th row, cycling through every kind', () => {
    for (const [kind, kinds, withUuid] of [
      ['users', USER_BAD_KINDS, false],
      ['telemetry', TELEMETRY_BAD_KINDS, true],
    ] as const) {
      const recs = [...generateRecords({ kind, rows: 4 * kinds.length * 3, seed: 9, badEvery: 4, withUuid })].slice(1);
      const corrupted = recs.map((r, i) => [i, r.corruption]).filter(([, c]) => c !== undefined);
      expect(corrupted.map(([i]) => i)).toEqual([...Array(kinds.length * 3)].map((_, k) => 4 * k + 3));
      expect(new Set(corrupted.map(([, c]) => c))).toEqual(new Set(kinds));
      expect(recs.filter((r) => r.status === 'duplicate').length).toBe(3);
    }
  });

  it('users: unicode names, e-mails with +tags, a quoted address with a line break now and then', () => {
    const recs = [...generateRecords({ kind: 'users', rows: 2_000, seed: 5 })];
    const text = recs.map((r) => r.text).join('');
    expect(text).toMatch(/[ŁłØøÜüŞşÉé]/);
    expect(text).toMatch(/\+(emg|crm|newsletter|clinic|2024)@/);
    expect(recs.some((r) => r.lines === 2)).toBe(true);
    expect(text).toContain('""'); // an escaped quote in an address
  });
});
