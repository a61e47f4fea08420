/**
 * XXH32, which the LZ4 frame format uses for its header checksum byte and its
 * optional block and content checksums. Small enough to carry here rather
 * than pull in a package (the popular ones are async WASM).
 */

const P1 = 0x9e3779b1, P2 = 0x85ebca77, P3 = 0xc2b2ae3d, P4 = 0x27d4eb2f, P5 = 0x165667b1;

const rotl = (x: number, r: number) => (x << r) | (x >>> (32 - r));

function round(acc: number, input: number): number {
  return Math.imul(rotl((acc + Math.imul(input, P2)) | 0, 13), P1);
}

export function xxh32(data: Uint8Array, seed = 0): number {
  const d = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const len = data.byteLength;
  let p = 0;
  let h: number;
  if (len >= 16) {
    let v1 = (seed + P1 + P2) | 0, v2 = (seed + P2) | 0, v3 = seed | 0, v4 = (seed - P1) | 0;
    for (; p <= len - 16; p += 16) {
      v1 = round(v1, d.getUint32(p, true));
      v2 = round(v2, d.getUint32(p + 4, true));
      v3 = round(v3, d.getUint32(p + 8, true));
      v4 = round(v4, d.getUint32(p + 12, true));
    }
    h = (rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18)) | 0;
  } else {
    h = (seed + P5) | 0;
  }
  h = (h + len) | 0;
  for (; p + 4 <= len; p += 4) h = Math.imul(rotl((h + Math.imul(d.getUint32(p, true), P3)) | 0, 17), P4);
  for (; p < len; p++) h = Math.imul(rotl((h + Math.imul(data[p]!, P5)) | 0, 11), P1);
  h = Math.imul(h ^ (h >>> 15), P2);
  h = Math.imul(h ^ (h >>> 13), P3);
  return (h ^ (h >>> 16)) >>> 0;
}
