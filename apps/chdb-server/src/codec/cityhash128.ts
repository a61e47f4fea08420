/**
 * CityHash v1.0.2, the old version ClickHouse keeps in contrib/cityhash102 and
 * uses for the checksum of every compressed block (on disk and in the HTTP
 * `compress=1` format). Later CityHash versions give different numbers, so no
 * general-purpose CityHash package will do.
 *
 * JavaScript has no 64-bit integers short of BigInt, which allocates on every
 * operation and is far too slow for hashing a response as it streams. Every
 * 64-bit value is therefore a pair of unsigned 32-bit words (hi, lo). A helper
 * returns the low word and leaves the high word in `W[0]`, so nothing allocates;
 * read `W[0]` right after the call that set it.
 */

// Scratch words live in a typed array: a module-level `let` holding numbers
// above 2^30 would box a heap number on every store.
// Typed as a tuple so that reads are plain numbers under noUncheckedIndexedAccess.
type Words = [number, number, number, number, number, number, number, number, number];
const W = new Uint32Array(9) as unknown as Words;

// The constants of city.cc, split into words.
const K0H = 0xc3a5c85c, K0L = 0x97cb3127;
const K1H = 0xb492b66f, K1L = 0xbe98f273;
const K2H = 0x9ae16a3b, K2L = 0x2f90404f;
const K3H = 0xc949d7c7, K3L = 0x509e6557;
const KMULH = 0x9ddfea08, KMULL = 0xeb382d69;

function add(ah: number, al: number, bh: number, bl: number): number {
  const l = (al >>> 0) + (bl >>> 0);
  W[0] = (ah + bh + (l > 0xffffffff ? 1 : 0)) >>> 0;
  return l >>> 0;
}

function sub(ah: number, al: number, bh: number, bl: number): number {
  W[0] = (ah - bh - ((al >>> 0) < (bl >>> 0) ? 1 : 0)) >>> 0;
  return (al - bl) >>> 0;
}

/** The low 64 bits of a 64×64 product. */
function mul(ah: number, al: number, bh: number, bl: number): number {
  // al×bl needs all 64 bits; split into 16-bit halves so every partial
  // product stays exact in a double. The cross terms only reach the high word.
  const a0 = al & 0xffff, a1 = al >>> 16, b0 = bl & 0xffff, b1 = bl >>> 16;
  const p01 = a0 * b1, p10 = a1 * b0;
  const carry = (((a0 * b0) >>> 16) + (p01 & 0xffff) + (p10 & 0xffff)) >>> 16;
  W[0] = (Math.imul(a1, b1) + (p01 >>> 16) + (p10 >>> 16) + carry + Math.imul(al, bh) + Math.imul(ah, bl)) >>> 0;
  return Math.imul(al, bl) >>> 0;
}

/** Rotate right by 1..63 bits. */
function rot(h: number, l: number, r: number): number {
  if (r < 32) {
    W[0] = ((h >>> r) | (l << (32 - r))) >>> 0;
    return ((l >>> r) | (h << (32 - r))) >>> 0;
  }
  if (r === 32) {
    W[0] = l >>> 0;
    return h >>> 0;
  }
  r -= 32;
  W[0] = ((l >>> r) | (h << (32 - r))) >>> 0;
  return ((h >>> r) | (l << (32 - r))) >>> 0;
}

/** Hash128to64 of (u, v): city.h's Murmur-style mix. */
function hashLen16(uh: number, ul: number, vh: number, vl: number): number {
  let al = mul(uh ^ vh, ul ^ vl, KMULH, KMULL);
  const ah = W[0];
  al = (al ^ (ah >>> 15)) >>> 0; // ShiftMix: x ^ (x >> 47) only touches the low word
  let bl = mul(vh ^ ah, vl ^ al, KMULH, KMULL);
  const bh = W[0];
  bl = (bl ^ (bh >>> 15)) >>> 0;
  return mul(bh, bl, KMULH, KMULL);
}

function hashLen0to16(d: DataView, s: number, len: number): number {
  if (len > 8) {
    const al = d.getUint32(s, true), ah = d.getUint32(s + 4, true);
    const bl = d.getUint32(s + len - 8, true), bh = d.getUint32(s + len - 4, true);
    let tl = add(bh, bl, 0, len);
    tl = rot(W[0], tl, len);
    const rl = hashLen16(ah, al, W[0], tl);
    W[0] = (W[0] ^ bh) >>> 0;
    return (rl ^ bl) >>> 0;
  }
  if (len >= 4) {
    const a = d.getUint32(s, true);
    const xl = add(a >>> 29, (a << 3) >>> 0, 0, len);
    return hashLen16(W[0], xl, 0, d.getUint32(s + len - 4, true));
  }
  if (len > 0) {
    const a = d.getUint8(s), b = d.getUint8(s + (len >> 1)), c = d.getUint8(s + len - 1);
    const y = a + (b << 8), z = len + (c << 2);
    const pl = mul(0, y, K2H, K2L), ph = W[0];
    const ql = mul(0, z, K3H, K3L), qh = W[0];
    const xh = (ph ^ qh) >>> 0;
    return mul(xh, (pl ^ ql ^ (xh >>> 15)) >>> 0, K2H, K2L);
  }
  W[0] = K2H;
  return K2L;
}

// WeakHashLen32WithSeeds returns a pair: first in (W[1], W[2]), second in (W[3], W[4]).

function weakHash32(d: DataView, s: number, ah: number, al: number, bh: number, bl: number): void {
  const wl = d.getUint32(s, true), wh = d.getUint32(s + 4, true);
  const xl = d.getUint32(s + 8, true), xh = d.getUint32(s + 12, true);
  const yl = d.getUint32(s + 16, true), yh = d.getUint32(s + 20, true);
  const zl = d.getUint32(s + 24, true), zh = d.getUint32(s + 28, true);
  al = add(ah, al, wh, wl); ah = W[0]; // a += w
  bl = add(bh, bl, ah, al); bh = W[0]; // b = Rotate(b + a + z, 21)
  bl = add(bh, bl, zh, zl); bh = W[0];
  bl = rot(bh, bl, 21); bh = W[0];
  const cl = al, ch = ah; // c = a
  al = add(ah, al, xh, xl); ah = W[0]; // a += x; a += y
  al = add(ah, al, yh, yl); ah = W[0];
  const rl = rot(ah, al, 44); // b += Rotate(a, 44)
  bl = add(bh, bl, W[0], rl); bh = W[0];
  W[2] = add(ah, al, zh, zl); W[1] = W[0]; // (a + z, b + c)
  W[4] = add(bh, bl, ch, cl); W[3] = W[0];
}

const M32 = 0xffffffff;

// The main loop's state between calls: x, y, z, v.first, v.second, w.first,
// w.second, each as (hi, lo).
type State = [number, number, number, number, number, number, number, number, number, number, number, number, number, number];
const S = new Uint32Array(14) as unknown as State;

/**
 * CityHash128WithSeed's main loop: `steps` 64-byte steps from `s`, on the
 * state in S. Nearly all the time goes here, and V8 stops inlining small
 * helpers into a body this large, so the 64-bit adds and rotations are
 * written out (mul stays a call). A high word may run past 32 bits between
 * steps of a sum: every shift, xor and imul reduces it mod 2^32 anyway. Low
 * words are always reduced, since the carry test needs them so.
 */
function mainLoop(d: DataView, s: number, steps: number): void {
  let xh = S[0], xl = S[1], yh = S[2], yl = S[3], zh = S[4], zl = S[5];
  let v1h = S[6], v1l = S[7], v2h = S[8], v2l = S[9], w1h = S[10], w1l = S[11], w2h = S[12], w2l = S[13];
  let h: number, l: number, ah: number, al: number, bh: number, bl: number, ch: number, cl: number;
  for (const end = s + steps * 64; s < end; s += 64) {
    const f0l = d.getUint32(s, true), f0h = d.getUint32(s + 4, true);
    const f1l = d.getUint32(s + 8, true), f1h = d.getUint32(s + 12, true);
    const f2l = d.getUint32(s + 16, true), f2h = d.getUint32(s + 20, true);
    const f3l = d.getUint32(s + 24, true), f3h = d.getUint32(s + 28, true);
    const f4l = d.getUint32(s + 32, true), f4h = d.getUint32(s + 36, true);
    const f5l = d.getUint32(s + 40, true), f5h = d.getUint32(s + 44, true);
    const f6l = d.getUint32(s + 48, true), f6h = d.getUint32(s + 52, true);
    const f7l = d.getUint32(s + 56, true), f7h = d.getUint32(s + 60, true);

    // x = Rotate(x + y + v.first + Fetch64(s + 16), 37) * k1   (37 = swap words, then 5)
    l = xl + yl; h = xh + yh + (l > M32 ? 1 : 0); l >>>= 0;
    l += v1l; h += v1h + (l > M32 ? 1 : 0); l >>>= 0;
    l += f2l; h += f2h + (l > M32 ? 1 : 0); l >>>= 0;
    xl = mul((l >>> 5) | (h << 27), (h >>> 5) | (l << 27), K1H, K1L); xh = W[0];
    // y = Rotate(y + v.second + Fetch64(s + 48), 42) * k1   (42 = swap, then 10)
    l = yl + v2l; h = yh + v2h + (l > M32 ? 1 : 0); l >>>= 0;
    l += f6l; h += f6h + (l > M32 ? 1 : 0); l >>>= 0;
    yl = mul((l >>> 10) | (h << 22), (h >>> 10) | (l << 22), K1H, K1L); yh = W[0];
    // x ^= w.second; y ^= v.first
    xh = (xh ^ w2h) >>> 0; xl = (xl ^ w2l) >>> 0;
    yh = (yh ^ v1h) >>> 0; yl = (yl ^ v1l) >>> 0;
    // z = Rotate(z ^ w.first, 33)   (33 = swap, then 1)
    h = zh ^ w1h; l = zl ^ w1l;
    zh = ((l >>> 1) | (h << 31)) >>> 0; zl = ((h >>> 1) | (l << 31)) >>> 0;

    // v = WeakHashLen32WithSeeds(s, v.second * k1, x + w.first); see weakHash32
    al = mul(v2h, v2l, K1H, K1L); ah = W[0];
    bl = xl + w1l; bh = xh + w1h + (bl > M32 ? 1 : 0); bl >>>= 0;
    al += f0l; ah += f0h + (al > M32 ? 1 : 0); al >>>= 0; // a += w
    l = bl + al; h = bh + ah + (l > M32 ? 1 : 0); l >>>= 0; // b = Rotate(b + a + z, 21)
    l += f3l; h += f3h + (l > M32 ? 1 : 0); l >>>= 0;
    bh = ((h >>> 21) | (l << 11)) >>> 0; bl = ((l >>> 21) | (h << 11)) >>> 0;
    ch = ah; cl = al; // c = a
    al += f1l; ah += f1h + (al > M32 ? 1 : 0); al >>>= 0; // a += x; a += y
    al += f2l; ah += f2h + (al > M32 ? 1 : 0); al >>>= 0;
    l = ((ah >>> 12) | (al << 20)) >>> 0; h = (al >>> 12) | (ah << 20); // b += Rotate(a, 44)
    bl += l; bh += h + (bl > M32 ? 1 : 0); bl >>>= 0;
    v1l = al + f3l; v1h = (ah + f3h + (v1l > M32 ? 1 : 0)) >>> 0; v1l >>>= 0; // (a + z, b + c)
    v2l = bl + cl; v2h = (bh + ch + (v2l > M32 ? 1 : 0)) >>> 0; v2l >>>= 0;

    // w = WeakHashLen32WithSeeds(s + 32, z + w.second, y)
    al = zl + w2l; ah = zh + w2h + (al > M32 ? 1 : 0); al >>>= 0;
    bh = yh; bl = yl;
    al += f4l; ah += f4h + (al > M32 ? 1 : 0); al >>>= 0;
    l = bl + al; h = bh + ah + (l > M32 ? 1 : 0); l >>>= 0;
    l += f7l; h += f7h + (l > M32 ? 1 : 0); l >>>= 0;
    bh = ((h >>> 21) | (l << 11)) >>> 0; bl = ((l >>> 21) | (h << 11)) >>> 0;
    ch = ah; cl = al;
    al += f5l; ah += f5h + (al > M32 ? 1 : 0); al >>>= 0;
    al += f6l; ah += f6h + (al > M32 ? 1 : 0); al >>>= 0;
    l = ((ah >>> 12) | (al << 20)) >>> 0; h = (al >>> 12) | (ah << 20);
    bl += l; bh += h + (bl > M32 ? 1 : 0); bl >>>= 0;
    w1l = al + f7l; w1h = (ah + f7h + (w1l > M32 ? 1 : 0)) >>> 0; w1l >>>= 0;
    w2l = bl + cl; w2h = (bh + ch + (w2l > M32 ? 1 : 0)) >>> 0; w2l >>>= 0;

    // swap(z, x)
    l = zl; h = zh; zl = xl; zh = xh; xl = l; xh = h;
  }
  S[0] = xh; S[1] = xl; S[2] = yh; S[3] = yl; S[4] = zh; S[5] = zl;
  S[6] = v1h; S[7] = v1l; S[8] = v2h; S[9] = v2l; S[10] = w1h; S[11] = w1l; S[12] = w2h; S[13] = w2l;
}

// A 128-bit result: low 64 bits in (W[5], W[6]), high 64 bits in (W[7], W[8]).

function cityMurmur(d: DataView, s: number, len: number, sh0: number, sl0: number, sh1: number, sl1: number): void {
  let ah = sh0, al = sl0, bh = sh1, bl = sl1, ch: number, cl: number, dh: number, dl: number;
  let l = len - 16;
  if (l <= 0) {
    al = mul(ah, al, K1H, K1L); ah = W[0]; // a = ShiftMix(a * k1) * k1
    al = mul(ah, (al ^ (ah >>> 15)) >>> 0, K1H, K1L); ah = W[0];
    const tl = mul(bh, bl, K1H, K1L), th = W[0]; // c = b * k1 + HashLen0to16(s, len)
    const hl = hashLen0to16(d, s, len);
    cl = add(th, tl, W[0], hl); ch = W[0];
    // d = ShiftMix(a + (len >= 8 ? Fetch64(s) : c))
    if (len >= 8) dl = add(ah, al, d.getUint32(s + 4, true), d.getUint32(s, true));
    else dl = add(ah, al, ch, cl);
    dh = W[0];
    dl = (dl ^ (dh >>> 15)) >>> 0;
  } else {
    // c = HashLen16(Fetch64(s + len - 8) + k1, a)
    let tl = add(d.getUint32(s + len - 4, true), d.getUint32(s + len - 8, true), K1H, K1L);
    cl = hashLen16(W[0], tl, ah, al); ch = W[0];
    // d = HashLen16(b + len, c + Fetch64(s + len - 16))
    tl = add(bh, bl, 0, len);
    const th = W[0];
    const ul = add(ch, cl, d.getUint32(s + len - 12, true), d.getUint32(s + len - 16, true));
    dl = hashLen16(th, tl, W[0], ul); dh = W[0];
    al = add(ah, al, dh, dl); ah = W[0]; // a += d
    do {
      // a ^= ShiftMix(Fetch64(s) * k1) * k1; a *= k1; b ^= a;
      tl = mul(d.getUint32(s + 4, true), d.getUint32(s, true), K1H, K1L);
      tl = mul(W[0], (tl ^ (W[0] >>> 15)) >>> 0, K1H, K1L);
      al = mul(ah ^ W[0], al ^ tl, K1H, K1L); ah = W[0];
      bh = (bh ^ ah) >>> 0; bl = (bl ^ al) >>> 0;
      // c ^= ShiftMix(Fetch64(s + 8) * k1) * k1; c *= k1; d ^= c;
      tl = mul(d.getUint32(s + 12, true), d.getUint32(s + 8, true), K1H, K1L);
      tl = mul(W[0], (tl ^ (W[0] >>> 15)) >>> 0, K1H, K1L);
      cl = mul(ch ^ W[0], cl ^ tl, K1H, K1L); ch = W[0];
      dh = (dh ^ ch) >>> 0; dl = (dl ^ cl) >>> 0;
      s += 16;
      l -= 16;
    } while (l > 0);
  }
  al = hashLen16(ah, al, ch, cl); ah = W[0]; // a = HashLen16(a, c)
  bl = hashLen16(dh, dl, bh, bl); bh = W[0]; // b = HashLen16(d, b)
  W[5] = (ah ^ bh) >>> 0; W[6] = (al ^ bl) >>> 0;
  W[8] = hashLen16(bh, bl, ah, al); W[7] = W[0];
}

function cityHash128WithSeed(d: DataView, s: number, len: number, xh: number, xl: number, yh: number, yl: number): void {
  if (len < 128) {
    cityMurmur(d, s, len, xh, xl, yh, yl);
    return;
  }
  let tl: number, th: number;
  let zl = mul(0, len, K1H, K1L), zh = W[0]; // z = len * k1 (len < 2^32 here)
  // v.first = Rotate(y ^ k1, 49) * k1 + Fetch64(s)
  tl = rot(yh ^ K1H, yl ^ K1L, 49);
  tl = mul(W[0], tl, K1H, K1L);
  let v1l = add(W[0], tl, d.getUint32(s + 4, true), d.getUint32(s, true)), v1h = W[0];
  // v.second = Rotate(v.first, 42) * k1 + Fetch64(s + 8)
  tl = rot(v1h, v1l, 42);
  tl = mul(W[0], tl, K1H, K1L);
  let v2l = add(W[0], tl, d.getUint32(s + 12, true), d.getUint32(s + 8, true)), v2h = W[0];
  // w.first = Rotate(y + z, 35) * k1 + x
  tl = add(yh, yl, zh, zl);
  tl = rot(W[0], tl, 35);
  tl = mul(W[0], tl, K1H, K1L);
  let w1l = add(W[0], tl, xh, xl), w1h = W[0];
  // w.second = Rotate(x + Fetch64(s + 88), 53) * k1
  tl = add(xh, xl, d.getUint32(s + 92, true), d.getUint32(s + 88, true));
  tl = rot(W[0], tl, 53);
  let w2l = mul(W[0], tl, K1H, K1L), w2h = W[0];

  // city.cc unrolls its loop twice (128 bytes per turn); each 64-byte half is
  // the same step, so mainLoop runs them as steps of 64.
  const steps = 2 * Math.floor(len / 128);
  S[0] = xh; S[1] = xl; S[2] = yh; S[3] = yl; S[4] = zh; S[5] = zl;
  S[6] = v1h; S[7] = v1l; S[8] = v2h; S[9] = v2l; S[10] = w1h; S[11] = w1l; S[12] = w2h; S[13] = w2l;
  mainLoop(d, s, steps);
  xh = S[0]; xl = S[1]; yh = S[2]; yl = S[3]; zh = S[4]; zl = S[5];
  v1h = S[6]; v1l = S[7]; v2h = S[8]; v2l = S[9]; w1h = S[10]; w1l = S[11]; w2h = S[12]; w2l = S[13];
  s += steps * 64;
  const left = len - steps * 64;

  // y += Rotate(w.first, 37) * k0 + z
  tl = rot(w1h, w1l, 37);
  tl = mul(W[0], tl, K0H, K0L);
  tl = add(W[0], tl, zh, zl);
  yl = add(yh, yl, W[0], tl); yh = W[0];
  // x += Rotate(v.first + z, 49) * k0
  tl = add(v1h, v1l, zh, zl);
  tl = rot(W[0], tl, 49);
  tl = mul(W[0], tl, K0H, K0L);
  xl = add(xh, xl, W[0], tl); xh = W[0];
  // Up to four 32-byte chunks from the end; they may reach back into bytes
  // the loop already hashed, exactly as in city.cc.
  for (let done = 0; done < left; ) {
    done += 32;
    // y = Rotate(y - x, 42) * k0 + v.second
    tl = sub(yh, yl, xh, xl);
    tl = rot(W[0], tl, 42);
    tl = mul(W[0], tl, K0H, K0L);
    yl = add(W[0], tl, v2h, v2l); yh = W[0];
    // w.first += Fetch64(s + len - tail_done + 16)
    const p = s + left - done;
    w1l = add(w1h, w1l, d.getUint32(p + 20, true), d.getUint32(p + 16, true)); w1h = W[0];
    // x = Rotate(x, 49) * k0 + w.first
    tl = rot(xh, xl, 49);
    tl = mul(W[0], tl, K0H, K0L);
    xl = add(W[0], tl, w1h, w1l); xh = W[0];
    // w.first += v.first
    w1l = add(w1h, w1l, v1h, v1l); w1h = W[0];
    // v = WeakHashLen32WithSeeds(s + len - tail_done, v.first, v.second)
    weakHash32(d, p, v1h, v1l, v2h, v2l);
    v1h = W[1]; v1l = W[2]; v2h = W[3]; v2l = W[4];
  }
  xl = hashLen16(xh, xl, v1h, v1l); xh = W[0]; // x = HashLen16(x, v.first)
  yl = hashLen16(yh, yl, w1h, w1l); yh = W[0]; // y = HashLen16(y, w.first)
  // (HashLen16(x + v.second, w.second) + y, HashLen16(x + w.second, y + v.second))
  tl = add(xh, xl, v2h, v2l);
  tl = hashLen16(W[0], tl, w2h, w2l);
  W[6] = add(W[0], tl, yh, yl); W[5] = W[0];
  tl = add(xh, xl, w2h, w2l); th = W[0];
  const ul = add(yh, yl, v2h, v2l);
  W[8] = hashLen16(th, tl, W[0], ul); W[7] = W[0];
}

/**
 * CityHash128 v1.0.2 of `data`, written into `out` at `offset` the way
 * ClickHouse stores a block checksum: the low 64 bits, then the high 64 bits,
 * each little-endian. Returns `out`.
 */
export function cityHash128(data: Uint8Array, out: Uint8Array = new Uint8Array(16), offset = 0): Uint8Array {
  const d = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const len = data.byteLength;
  if (len >= 16) {
    // seed = (Fetch64(s) ^ k3, Fetch64(s + 8)), then hash the rest
    cityHash128WithSeed(
      d, 16, len - 16,
      (d.getUint32(4, true) ^ K3H) >>> 0, (d.getUint32(0, true) ^ K3L) >>> 0,
      d.getUint32(12, true), d.getUint32(8, true),
    );
  } else if (len >= 8) {
    // seed = (Fetch64(s) ^ (len * k0), Fetch64(s + len - 8) ^ k1), no bytes left
    const ml = mul(0, len, K0H, K0L), mh = W[0];
    cityHash128WithSeed(
      d, 0, 0,
      (d.getUint32(4, true) ^ mh) >>> 0, (d.getUint32(0, true) ^ ml) >>> 0,
      (d.getUint32(len - 4, true) ^ K1H) >>> 0, (d.getUint32(len - 8, true) ^ K1L) >>> 0,
    );
  } else {
    cityHash128WithSeed(d, 0, len, K0H, K0L, K1H, K1L);
  }
  const o = new DataView(out.buffer, out.byteOffset + offset, 16);
  o.setUint32(0, W[6], true);
  o.setUint32(4, W[5], true);
  o.setUint32(8, W[8], true);
  o.setUint32(12, W[7], true);
  return out;
}

// --- CityHash64 v1.0.2: ClickHouse's cityHash64() SQL function on a String. ---
// Not needed by the block format; it shares every helper above, so tests can
// check those against ClickHouse itself on inputs of any length.

function hashLen17to32(d: DataView, s: number, len: number): number {
  const al = mul(d.getUint32(s + 4, true), d.getUint32(s, true), K1H, K1L), ah = W[0];
  const bl = d.getUint32(s + 8, true), bh = d.getUint32(s + 12, true);
  const cl = mul(d.getUint32(s + len - 4, true), d.getUint32(s + len - 8, true), K2H, K2L), ch = W[0];
  const dl = mul(d.getUint32(s + len - 12, true), d.getUint32(s + len - 16, true), K0H, K0L), dh = W[0];
  // u = Rotate(a - b, 43) + Rotate(c, 30) + d
  let ul = sub(ah, al, bh, bl);
  ul = rot(W[0], ul, 43);
  let uh = W[0];
  const rl = rot(ch, cl, 30);
  ul = add(uh, ul, W[0], rl); uh = W[0];
  ul = add(uh, ul, dh, dl); uh = W[0];
  // v = a + Rotate(b ^ k3, 20) - c + len
  let vl = rot(bh ^ K3H, bl ^ K3L, 20);
  vl = add(ah, al, W[0], vl);
  vl = sub(W[0], vl, ch, cl);
  vl = add(W[0], vl, 0, len);
  return hashLen16(uh, ul, W[0], vl);
}

function hashLen33to64(d: DataView, s: number, len: number): number {
  const f = (o: number) => {
    W[0] = d.getUint32(s + o + 4, true);
    return d.getUint32(s + o, true);
  };
  let tl: number, th: number;
  let zl = f(24), zh = W[0];
  // a = Fetch64(s) + (len + Fetch64(s + len - 16)) * k0
  tl = f(len - 16);
  tl = add(W[0], tl, 0, len);
  tl = mul(W[0], tl, K0H, K0L); th = W[0];
  let al = f(0);
  al = add(W[0], al, th, tl);
  let ah = W[0];
  let bl = add(ah, al, zh, zl); // b = Rotate(a + z, 52)
  bl = rot(W[0], bl, 52);
  let bh = W[0];
  let cl = rot(ah, al, 37), ch = W[0]; // c = Rotate(a, 37)
  tl = f(8); al = add(ah, al, W[0], tl); ah = W[0]; // a += Fetch64(s + 8)
  tl = rot(ah, al, 7); cl = add(ch, cl, W[0], tl); ch = W[0]; // c += Rotate(a, 7)
  tl = f(16); al = add(ah, al, W[0], tl); ah = W[0]; // a += Fetch64(s + 16)
  const vfl = add(ah, al, zh, zl), vfh = W[0]; // vf = a + z
  tl = rot(ah, al, 31); // vs = b + Rotate(a, 31) + c
  tl = add(bh, bl, W[0], tl);
  const vsl = add(W[0], tl, ch, cl), vsh = W[0];
  tl = f(16); th = W[0]; // a = Fetch64(s + 16) + Fetch64(s + len - 32)
  al = f(len - 32);
  al = add(th, tl, W[0], al); ah = W[0];
  zl = f(len - 8); zh = W[0]; // z = Fetch64(s + len - 8)
  bl = add(ah, al, zh, zl); bl = rot(W[0], bl, 52); bh = W[0]; // b = Rotate(a + z, 52)
  cl = rot(ah, al, 37); ch = W[0]; // c = Rotate(a, 37)
  tl = f(len - 24); al = add(ah, al, W[0], tl); ah = W[0]; // a += Fetch64(s + len - 24)
  tl = rot(ah, al, 7); cl = add(ch, cl, W[0], tl); ch = W[0]; // c += Rotate(a, 7)
  tl = f(len - 16); al = add(ah, al, W[0], tl); ah = W[0]; // a += Fetch64(s + len - 16)
  const wfl = add(ah, al, zh, zl), wfh = W[0]; // wf = a + z
  tl = rot(ah, al, 31); // ws = b + Rotate(a, 31) + c
  tl = add(bh, bl, W[0], tl);
  const wsl = add(W[0], tl, ch, cl), wsh = W[0];
  // r = ShiftMix((vf + ws) * k2 + (wf + vs) * k0)
  tl = add(vfh, vfl, wsh, wsl);
  tl = mul(W[0], tl, K2H, K2L); th = W[0];
  let rl = add(wfh, wfl, vsh, vsl);
  rl = mul(W[0], rl, K0H, K0L);
  rl = add(th, tl, W[0], rl);
  let rh = W[0];
  rl = (rl ^ (rh >>> 15)) >>> 0;
  // ShiftMix(r * k0 + vs) * k2
  rl = mul(rh, rl, K0H, K0L);
  rl = add(W[0], rl, vsh, vsl); rh = W[0];
  return mul(rh, (rl ^ (rh >>> 15)) >>> 0, K2H, K2L);
}

/** CityHash64 v1.0.2 as an unsigned BigInt (what `SELECT cityHash64(s)` prints). */
export function cityHash64(data: Uint8Array): bigint {
  const d = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const len = data.byteLength;
  let rl: number;
  if (len <= 16) rl = hashLen0to16(d, 0, len);
  else if (len <= 32) rl = hashLen17to32(d, 0, len);
  else if (len <= 64) rl = hashLen33to64(d, 0, len);
  else rl = cityHash64Long(d, len);
  return (BigInt(W[0]) << 32n) | BigInt(rl);
}

function cityHash64Long(d: DataView, len: number): number {
  let tl: number, th: number;
  let xl = d.getUint32(0, true), xh = d.getUint32(4, true);
  let yl = (d.getUint32(len - 16, true) ^ K1L) >>> 0, yh = (d.getUint32(len - 12, true) ^ K1H) >>> 0;
  let zl = (d.getUint32(len - 56, true) ^ K0L) >>> 0, zh = (d.getUint32(len - 52, true) ^ K0H) >>> 0;
  weakHash32(d, len - 64, 0, len, yh, yl); // v = WeakHashLen32WithSeeds(s + len - 64, len, y)
  let v1h = W[1], v1l = W[2], v2h = W[3], v2l = W[4];
  tl = mul(0, len, K1H, K1L); // w = WeakHashLen32WithSeeds(s + len - 32, len * k1, k0)
  weakHash32(d, len - 32, W[0], tl, K0H, K0L);
  let w1h = W[1], w1l = W[2], w2h = W[3], w2l = W[4];
  // z += ShiftMix(v.second) * k1
  tl = mul(v2h, (v2l ^ (v2h >>> 15)) >>> 0, K1H, K1L);
  zl = add(zh, zl, W[0], tl); zh = W[0];
  // x = Rotate(z + x, 39) * k1
  tl = add(zh, zl, xh, xl);
  tl = rot(W[0], tl, 39);
  xl = mul(W[0], tl, K1H, K1L); xh = W[0];
  // y = Rotate(y, 33) * k1
  tl = rot(yh, yl, 33);
  yl = mul(W[0], tl, K1H, K1L); yh = W[0];
  let left = (len - 1) & ~63; // below 2^31 here, so 32-bit masking is exact
  let s = 0;
  do {
    tl = add(xh, xl, yh, yl); th = W[0];
    tl = add(th, tl, v1h, v1l); th = W[0];
    tl = add(th, tl, d.getUint32(s + 20, true), d.getUint32(s + 16, true));
    tl = rot(W[0], tl, 37);
    xl = mul(W[0], tl, K1H, K1L); xh = W[0];
    tl = add(yh, yl, v2h, v2l); th = W[0];
    tl = add(th, tl, d.getUint32(s + 52, true), d.getUint32(s + 48, true));
    tl = rot(W[0], tl, 42);
    yl = mul(W[0], tl, K1H, K1L); yh = W[0];
    xh = (xh ^ w2h) >>> 0; xl = (xl ^ w2l) >>> 0;
    yh = (yh ^ v1h) >>> 0; yl = (yl ^ v1l) >>> 0;
    zl = rot(zh ^ w1h, zl ^ w1l, 33); zh = W[0];
    const al = mul(v2h, v2l, K1H, K1L), ah = W[0];
    const bl = add(xh, xl, w1h, w1l), bh = W[0];
    weakHash32(d, s, ah, al, bh, bl);
    v1h = W[1]; v1l = W[2]; v2h = W[3]; v2l = W[4];
    tl = add(zh, zl, w2h, w2l);
    weakHash32(d, s + 32, W[0], tl, yh, yl);
    w1h = W[1]; w1l = W[2]; w2h = W[3]; w2l = W[4];
    tl = zl; th = zh; zl = xl; zh = xh; xl = tl; xh = th;
    s += 64;
    left -= 64;
  } while (left !== 0);
  // HashLen16(HashLen16(v.first, w.first) + ShiftMix(y) * k1 + z, HashLen16(v.second, w.second) + x)
  tl = hashLen16(v1h, v1l, w1h, w1l); th = W[0];
  let ml = mul(yh, (yl ^ (yh >>> 15)) >>> 0, K1H, K1L);
  tl = add(th, tl, W[0], ml);
  tl = add(W[0], tl, zh, zl); th = W[0];
  ml = hashLen16(v2h, v2l, w2h, w2l);
  ml = add(W[0], ml, xh, xl);
  return hashLen16(th, tl, W[0], ml);
}
