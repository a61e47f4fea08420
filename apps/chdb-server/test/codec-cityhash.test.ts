import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cityHash64, cityHash128 } from '../src/codec/cityhash128.js';
import { openChdb, randomBytes, throughput } from './codec-support.js';

/**
 * A BigInt transliteration of city.cc v1.0.2 (ClickHouse's contrib/cityhash102):
 * slow but written straight from the C++, so the word-pair implementation is
 * checked against it on every length and every branch. The checksums stored
 * in ClickHouse's own files (codec-native-blocks.test.ts) anchor both to the
 * real thing.
 */
namespace Reference {
  const M = (1n << 64n) - 1n;
  const k0 = 0xc3a5c85c97cb3127n, k1 = 0xb492b66fbe98f273n, k2 = 0x9ae16a3b2f90404fn, k3 = 0xc949d7c7509e6557n;
  const f64 = (b: Buffer, p: number) => b.readBigUInt64LE(p);
  const f32 = (b: Buffer, p: number) => BigInt(b.readUInt32LE(p));
  const rot = (v: bigint, s: number) => (s === 0 ? v : ((v >> BigInt(s)) | (v << BigInt(64 - s))) & M);
  const shiftMix = (v: bigint) => v ^ (v >> 47n);
  const m = (v: bigint) => v & M;

  function hashLen16(u: bigint, v: bigint): bigint {
    const kMul = 0x9ddfea08eb382d69n;
    let a = m((u ^ v) * kMul);
    a ^= a >> 47n;
    let b = m((v ^ a) * kMul);
    b ^= b >> 47n;
    return m(b * kMul);
  }

  function hashLen0to16(b: Buffer, s: number, len: number): bigint {
    if (len > 8) {
      const a = f64(b, s), c = f64(b, s + len - 8);
      return hashLen16(a, rot(m(c + BigInt(len)), len)) ^ c;
    }
    if (len >= 4) return hashLen16(m(BigInt(len) + (f32(b, s) << 3n)), f32(b, s + len - 4));
    if (len > 0) {
      const y = BigInt(b[s]! + (b[s + (len >> 1)]! << 8));
      const z = BigInt(len + (b[s + len - 1]! << 2));
      return m(shiftMix(m(y * k2) ^ m(z * k3)) * k2);
    }
    return k2;
  }

  function weak(b: Buffer, s: number, a: bigint, c: bigint): [bigint, bigint] {
    const w = f64(b, s), x = f64(b, s + 8), y = f64(b, s + 16), z = f64(b, s + 24);
    a = m(a + w);
    c = rot(m(c + a + z), 21);
    const t = a;
    a = m(a + x + y);
    c = m(c + rot(a, 44));
    return [m(a + z), m(c + t)];
  }

  function murmur(b: Buffer, s: number, len: number, lo: bigint, hi: bigint): [bigint, bigint] {
    let a = lo, c = 0n, d = 0n, bb = hi;
    let l = len - 16;
    if (l <= 0) {
      a = m(shiftMix(m(a * k1)) * k1);
      c = m(m(bb * k1) + hashLen0to16(b, s, len));
      d = shiftMix(m(a + (len >= 8 ? f64(b, s) : c)));
    } else {
      c = hashLen16(m(f64(b, s + len - 8) + k1), a);
      d = hashLen16(m(bb + BigInt(len)), m(c + f64(b, s + len - 16)));
      a = m(a + d);
      do {
        a ^= m(shiftMix(m(f64(b, s) * k1)) * k1);
        a = m(a * k1);
        bb ^= a;
        c ^= m(shiftMix(m(f64(b, s + 8) * k1)) * k1);
        c = m(c * k1);
        d ^= c;
        s += 16;
        l -= 16;
      } while (l > 0);
    }
    a = hashLen16(a, c);
    bb = hashLen16(d, bb);
    return [a ^ bb, hashLen16(bb, a)];
  }

  function withSeed(b: Buffer, s: number, len: number, lo: bigint, hi: bigint): [bigint, bigint] {
    if (len < 128) return murmur(b, s, len, lo, hi);
    let x = lo, y = hi, z = m(BigInt(len) * k1);
    let v: [bigint, bigint] = [0n, 0n], w: [bigint, bigint] = [0n, 0n];
    v[0] = m(m(rot(y ^ k1, 49) * k1) + f64(b, s));
    v[1] = m(m(rot(v[0], 42) * k1) + f64(b, s + 8));
    w[0] = m(m(rot(m(y + z), 35) * k1) + x);
    w[1] = m(rot(m(x + f64(b, s + 88)), 53) * k1);
    do {
      for (let half = 0; half < 2; half++) {
        x = m(rot(m(x + y + v[0] + f64(b, s + 16)), 37) * k1);
        y = m(rot(m(y + v[1] + f64(b, s + 48)), 42) * k1);
        x ^= w[1];
        y ^= v[0];
        z = rot(z ^ w[0], 33);
        v = weak(b, s, m(v[1] * k1), m(x + w[0]));
        w = weak(b, s + 32, m(z + w[1]), y);
        [z, x] = [x, z];
        s += 64;
      }
      len -= 128;
    } while (len >= 128);
    y = m(y + m(rot(w[0], 37) * k0) + z);
    x = m(x + m(rot(m(v[0] + z), 49) * k0));
    for (let done = 0; done < len; ) {
      done += 32;
      y = m(m(rot(m(y - x), 42) * k0) + v[1]);
      w[0] = m(w[0] + f64(b, s + len - done + 16));
      x = m(m(rot(x, 49) * k0) + w[0]);
      w[0] = m(w[0] + v[0]);
      v = weak(b, s + len - done, v[0], v[1]);
    }
    x = hashLen16(x, v[0]);
    y = hashLen16(y, w[0]);
    return [m(hashLen16(m(x + v[1]), w[1]) + y), hashLen16(m(x + w[1]), m(y + v[1]))];
  }

  /** 16 bytes, low 64 bits first, as ClickHouse stores a block checksum. */
  export function cityHash128(b: Buffer): Buffer {
    const len = b.length;
    const [lo, hi] =
      len >= 16
        ? withSeed(b, 16, len - 16, f64(b, 0) ^ k3, f64(b, 8))
        : len >= 8
          ? withSeed(b, 0, 0, f64(b, 0) ^ m(BigInt(len) * k0), f64(b, len - 8) ^ k1)
          : withSeed(b, 0, len, k0, k1);
    const out = Buffer.alloc(16);
    out.writeBigUInt64LE(lo, 0);
    out.writeBigUInt64LE(hi, 8);
    return out;
  }
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('cityHash128 (v1.0.2)', () => {
  it('agrees with the reference transliteration on every length 0..700 and on extreme bytes', () => {
    const wrong: string[] = [];
    for (let len = 0; len <= 700; len++) {
      for (const input of [randomBytes(len, len + 1), Buffer.alloc(len, 0xff), Buffer.alloc(len, 0)]) {
        if (hex(cityHash128(input)) !== hex(Reference.cityHash128(input))) wrong.push(`len ${len} ${hex(input.subarray(0, 8))}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('agrees on large inputs, including the 1 MiB blocks ClickHouse writes', () => {
    for (const len of [4096, 65_537, 1 << 20, (1 << 20) + 9 + 77]) {
      const input = randomBytes(len, len);
      expect(hex(cityHash128(input))).toBe(hex(Reference.cityHash128(input)));
    }
  });

  it('hashes a view at any offset, and writes into the given buffer', () => {
    const backing = randomBytes(1000, 7);
    const view = backing.subarray(3, 503);
    const out = Buffer.alloc(20);
    expect(cityHash128(view, out, 4)).toBe(out);
    expect(hex(out.subarray(4))).toBe(hex(Reference.cityHash128(Buffer.from(view))));
  });

  it('runs fast enough to checksum a streamed response', () => {
    const block = randomBytes(1 << 20, 3);
    const mbPerSecond = throughput(block.length, 30, () => cityHash128(block));
    console.log(`cityHash128 on 1 MiB blocks: ${mbPerSecond.toFixed(0)} MB/s`);
    expect(mbPerSecond).toBeGreaterThan(20);
  });
});

describe('cityHash64 (v1.0.2) against ClickHouse', () => {
  let chdb: ReturnType<typeof openChdb>;
  beforeAll(() => {
    chdb = openChdb();
  });
  afterAll(() => chdb?.close());

  it('matches SELECT cityHash64(s) on every length 0..300 and a few long ones', () => {
    // cityHash64 shares every helper with cityHash128, so this checks them
    // against ClickHouse itself, not only against the reference above.
    const inputs = [
      ...Array.from({ length: 301 }, (_, len) => randomBytes(len, 1000 + len)),
      ...[1000, 4096, 65_537].map((len) => randomBytes(len, len)),
      Buffer.alloc(200, 0xff),
    ];
    const literals = inputs.map((b) => `unhex('${b.toString('hex')}')`).join(',');
    const expected = chdb.session
      .query(`SELECT cityHash64(s) FROM (SELECT arrayJoin([${literals}]) AS s)`, 'TSV')
      .toString()
      .trim()
      .split('\n');
    expect(inputs.map((b) => cityHash64(b).toString())).toEqual(expected);
  });
});
