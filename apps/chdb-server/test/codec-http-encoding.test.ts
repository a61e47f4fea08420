import { readFileSync, writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { Readable, type Transform } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { setTimeout as sleep } from 'node:timers/promises';
import zlib from 'node:zlib';
import { Decompress } from 'fzstd';
import { compressSync } from 'lz4-napi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readBody } from '../src/body.js';
import { cityHash64 } from '../src/codec/cityhash128.js';
import { type HttpEncoding, chooseEncoding, createEncoder, decodeBody } from '../src/codec/http-encoding.js';
import { encodeBlock } from '../src/codec/native-blocks.js';
import { xxh32 } from '../src/codec/xxh32.js';
import { ClickHouseError, Codes } from '../src/errors.js';
import { openChdb, randomBytes, tsvBytes } from './codec-support.js';

const ENCODINGS: readonly HttpEncoding[] = ['gzip', 'deflate', 'br', 'zstd', 'lz4'];
const BIG = 1 << 30;

/** Runs chunks through an encoder the way a response would, and collects it all. */
function encode(encoding: HttpEncoding, chunks: Buffer[], level = 3): Promise<Buffer> {
  return buffer(Readable.from(chunks, { objectMode: false }).pipe(createEncoder(encoding, level)));
}

async function codeOf(p: Promise<unknown>): Promise<number | undefined> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ClickHouseError) return e.code;
    throw e;
  }
  return undefined;
}

let chdb: ReturnType<typeof openChdb>;
beforeAll(() => {
  chdb = openChdb();
});
afterAll(() => chdb?.close());

describe('chooseEncoding', () => {
  it("follows ClickHouse's preference: zstd, br, lz4, gzip, deflate, by substring", () => {
    expect(chooseEncoding('gzip, deflate, br, zstd')).toBe('zstd');
    expect(chooseEncoding('gzip, deflate, br')).toBe('br');
    expect(chooseEncoding('gzip, lz4')).toBe('lz4');
    expect(chooseEncoding('deflate, gzip')).toBe('gzip');
    expect(chooseEncoding('deflate')).toBe('deflate');
    expect(chooseEncoding('GZIP')).toBe('gzip');
    expect(chooseEncoding('snappy, xz, bz2, identity')).toBeUndefined();
    expect(chooseEncoding('')).toBeUndefined();
    expect(chooseEncoding(undefined)).toBeUndefined();
  });
});

describe('round trips', () => {
  const bodies = {
    empty: [] as Buffer[],
    'one byte': [Buffer.from('x')],
    text: [tsvBytes(300_000, 1), tsvBytes(5, 2), tsvBytes(1_500_000, 3)],
    random: [randomBytes(2_500_000, 4), randomBytes(70_000, 5)],
  };
  for (const encoding of ENCODINGS) {
    for (const [name, chunks] of Object.entries(bodies)) {
      it(`${encoding}: ${name}`, async () => {
        const encoded = await encode(encoding, chunks);
        const decoded = await decodeBody(encoded, encoding, BIG);
        expect(decoded.equals(Buffer.concat(chunks))).toBe(true);
      });
    }
  }

  it('compresses text at every level 1..9', async () => {
    const text = tsvBytes(200_000, 6);
    for (const encoding of ENCODINGS) {
      for (const level of [1, 5, 9]) {
        const encoded = await encode(encoding, [text], level);
        expect(encoded.length, `${encoding} level ${level}`).toBeLessThan(text.length / 2);
        expect((await decodeBody(encoded, encoding, BIG)).equals(text)).toBe(true);
      }
    }
  });
});

/**
 * What the client holds so far, decoded: a streaming decompressor for the zlib
 * family, the whole prefix for zstd (complete frames) and lz4 (complete blocks,
 * closed with an end mark here since the server has not sent one yet).
 */
function clientSide(encoding: HttpEncoding): { feed(b: Buffer): void; decoded(): Buffer } {
  const out: Buffer[] = [];
  if (encoding === 'zstd') {
    const z = new Decompress((chunk) => out.push(Buffer.from(chunk)));
    return { feed: (b) => z.push(b), decoded: () => Buffer.concat(out) };
  }
  if (encoding === 'lz4') {
    const seen: Buffer[] = [];
    let decoded: Buffer = Buffer.alloc(0);
    return {
      feed: (b) => {
        seen.push(b);
        // A failure leaves `decoded` behind `sent`, which the test then reports.
        // (The real end mark, after end(), makes the closed-here prefix invalid.)
        decodeBody(Buffer.concat([...seen, Buffer.alloc(4)]), 'lz4', BIG).then(
          (d) => (decoded = d),
          () => undefined,
        );
      },
      decoded: () => decoded,
    };
  }
  const z: Transform =
    encoding === 'gzip' ? zlib.createGunzip() : encoding === 'deflate' ? zlib.createInflate() : zlib.createBrotliDecompress();
  z.on('data', (chunk: Buffer) => out.push(chunk));
  return { feed: (b) => z.write(b), decoded: () => Buffer.concat(out) };
}

describe('streaming', () => {
  for (const encoding of ENCODINGS) {
    it(`${encoding}: each chunk is decodable by the client before the next is written`, async () => {
      const encoder = createEncoder(encoding, 3);
      const client = clientSide(encoding);
      encoder.on('data', (b: Buffer) => client.feed(b));
      const chunks = [tsvBytes(20_000, 7), randomBytes(300_000, 8), tsvBytes(1_200_000, 9)];
      let sent = Buffer.alloc(0);
      for (const chunk of chunks) {
        encoder.write(chunk);
        sent = Buffer.concat([sent, chunk]);
        // Wait (bounded) until the client has all of it; no later chunk or end() helps here.
        for (let i = 0; i < 100 && client.decoded().length < sent.length; i++) await sleep(10);
        expect(client.decoded().equals(sent), `after ${sent.length} bytes`).toBe(true);
      }
      const rest = buffer(encoder);
      encoder.end();
      await rest;
    });
  }
});

describe('limits and bad input', () => {
  const zeros = Buffer.alloc(64 << 20);
  const bombs: Record<HttpEncoding, () => Promise<Buffer>> = {
    gzip: async () => zlib.gzipSync(zeros),
    deflate: async () => zlib.deflateSync(zeros),
    br: async () => zlib.brotliCompressSync(zeros, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 4 } }),
    zstd: () => encode('zstd', [zeros]),
    lz4: () => encode('lz4', [zeros]),
  };

  for (const encoding of ENCODINGS) {
    it(`${encoding}: 64 MiB of zeros against a 1 MiB limit is QUERY_IS_TOO_LARGE`, async () => {
      const bomb = await bombs[encoding]();
      expect(bomb.length).toBeLessThan(1 << 20);
      const before = process.memoryUsage().arrayBuffers;
      expect(await codeOf(decodeBody(bomb, encoding, 1 << 20))).toBe(Codes.QUERY_IS_TOO_LARGE);
      // Nothing near the 64 MiB got allocated on the way.
      expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(32 << 20);
      expect((await decodeBody(bomb, encoding, 64 << 20)).length).toBe(64 << 20);
    });

    it(`${encoding}: garbage and truncation are CANNOT_DECOMPRESS`, async () => {
      expect(await codeOf(decodeBody(randomBytes(1000, 10), encoding, BIG))).toBe(Codes.CANNOT_DECOMPRESS);
      const good = await encode(encoding, [tsvBytes(100_000, 11)]);
      expect(await codeOf(decodeBody(good.subarray(0, good.length >> 1), encoding, BIG))).toBe(Codes.CANNOT_DECOMPRESS);
    });
  }

  it('zstd: a frame declaring a huge window or size is refused before decoding', async () => {
    const frame = await encode('zstd', [tsvBytes(1000, 12)]);
    // Frame header: no single-segment, window descriptor 2^(10+21) = 2 GiB.
    const window = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 21 << 3, 0x01, 0x00, 0x00]);
    expect(await codeOf(decodeBody(window, 'zstd', BIG))).toBe(Codes.CANNOT_DECOMPRESS);
    // Our frames declare their content size; 1000 bytes do not fit 999.
    expect(await codeOf(decodeBody(frame, 'zstd', 999))).toBe(Codes.QUERY_IS_TOO_LARGE);
  });

  it('lz4: header, block and content checksums are verified', async () => {
    const frame = await encode('lz4', [tsvBytes(1000, 13)]);
    const badHeader = Buffer.from(frame);
    badHeader[6]! ^= 1;
    expect(await codeOf(decodeBody(badHeader, 'lz4', BIG))).toBe(Codes.CANNOT_DECOMPRESS);

    // A frame with every optional field (content size, block and content
    // checksums), as the lz4 CLI can write; ClickHouse and we never do.
    const text = tsvBytes(5000, 14);
    const block = compressSync(text).subarray(4);
    const descriptor = Buffer.alloc(10);
    descriptor[0] = 0x40 | 0x20 | 0x10 | 0x08 | 0x04;
    descriptor[1] = 0x40;
    descriptor.writeBigUInt64LE(BigInt(text.length), 2);
    const u32 = (n: number) => {
      const b = Buffer.alloc(4);
      b.writeUInt32LE(n >>> 0);
      return b;
    };
    const full = Buffer.concat([
      u32(0x184d2204), descriptor, Buffer.from([(xxh32(descriptor) >>> 8) & 0xff]),
      u32(block.length), block, u32(xxh32(block)),
      u32(0), u32(xxh32(text)),
    ]);
    expect((await decodeBody(full, 'lz4', BIG)).equals(text)).toBe(true);
    for (const at of [full.length - 1, 4 + 11 + 4 + block.length]) {
      const bad = Buffer.from(full);
      bad[at]! ^= 1;
      expect(await codeOf(decodeBody(bad, 'lz4', BIG)), `byte ${at}`).toBe(Codes.CANNOT_DECOMPRESS);
    }
    expect(await codeOf(decodeBody(full, 'lz4', text.length - 1))).toBe(Codes.QUERY_IS_TOO_LARGE);
  });

  it('xxh32 (the LZ4 frame checksum) matches ClickHouse xxHash32', () => {
    const inputs = Array.from({ length: 80 }, (_, len) => randomBytes(len, 300 + len));
    const literals = inputs.map((b) => `unhex('${b.toString('hex')}')`).join(',');
    const expected = chdb.session
      .query(`SELECT xxHash32(s) FROM (SELECT arrayJoin([${literals}]) AS s)`, 'TSV')
      .toString()
      .trim()
      .split('\n');
    expect(inputs.map((b) => String(xxh32(b)))).toEqual(expected);
  });

  it('Content-Encoding names: aliases, case, identity, and the unknown', async () => {
    const text = tsvBytes(1000, 14);
    expect((await decodeBody(zlib.gzipSync(text), ' GZIP ', BIG)).equals(text)).toBe(true);
    expect((await decodeBody(zlib.gzipSync(text), 'x-gzip', BIG)).equals(text)).toBe(true);
    expect((await decodeBody(zlib.brotliCompressSync(text), 'brotli', BIG)).equals(text)).toBe(true);
    expect((await decodeBody(await encode('zstd', [text]), 'zst', BIG)).equals(text)).toBe(true);
    for (const none of [undefined, '', 'identity', 'none']) expect(await decodeBody(text, none, BIG)).toBe(text);
    // As ClickHouse: an unknown method is NOT_IMPLEMENTED; so are the ones Node has no codec for.
    expect(await codeOf(decodeBody(text, 'compress', BIG))).toBe(Codes.NOT_IMPLEMENTED);
    expect(await codeOf(decodeBody(text, 'xz', BIG))).toBe(Codes.NOT_IMPLEMENTED);
    expect(await codeOf(decodeBody(text, 'constructor', BIG))).toBe(Codes.NOT_IMPLEMENTED);
  });
});

describe('readBody', () => {
  const request = (body: Buffer, headers: Record<string, string>) =>
    Object.assign(Readable.from([body]), { headers }) as unknown as IncomingMessage;

  it('undoes Content-Encoding, then native blocks when asked (decompress=1), as ClickHouse layers them', async () => {
    const text = tsvBytes(150_000, 15);
    const blocks = Buffer.concat([encodeBlock(text.subarray(0, 100_000)), encodeBlock(text.subarray(100_000))]);
    const sent = await encode('lz4', [blocks]);
    expect((await readBody(request(sent, { 'content-encoding': 'lz4' }), 1 << 20, { nativeBlocks: true })).equals(text)).toBe(true);
    expect((await readBody(request(text, {}), 1 << 20)).equals(text)).toBe(true);
    expect(await codeOf(readBody(request(sent, { 'content-encoding': 'lz4' }), 149_999, { nativeBlocks: true }))).toBe(
      Codes.QUERY_IS_TOO_LARGE,
    );
    expect(await codeOf(readBody(request(text, { 'content-length': String(text.length) }), 1000))).toBe(
      Codes.QUERY_IS_TOO_LARGE,
    );
  });
});

describe("ClickHouse's own encoders and decoders (chDB)", () => {
  const methods: Record<HttpEncoding, string> = { gzip: 'gzip', deflate: 'deflate', br: 'br', zstd: 'zstd', lz4: 'lz4' };
  const query = `SELECT number, toString(cityHash64(number)), repeat('x', number % 20) FROM numbers(60000)`;

  for (const encoding of ENCODINGS) {
    it(`${encoding}: we decode what ClickHouse writes with COMPRESSION '${methods[encoding]}'`, async () => {
      const file = join(chdb.dir, `theirs.${encoding}`);
      chdb.session.query(`${query} INTO OUTFILE '${file}' COMPRESSION '${methods[encoding]}' FORMAT TSV`, 'TSV');
      const expected = Buffer.from(chdb.session.query(`${query} FORMAT TSV`, 'TSV'));
      expect(expected.length).toBeGreaterThan(1_000_000);
      expect((await decodeBody(readFileSync(file), encoding, BIG)).equals(expected)).toBe(true);
    });

    it(`${encoding}: ClickHouse decodes what we write, byte for byte`, async () => {
      const chunks = [randomBytes(5, 16), tsvBytes(700_000, 17), randomBytes(1_300_000, 18), tsvBytes(3, 19)];
      const file = join(chdb.dir, `ours.${encoding}`);
      writeFileSync(file, await encode(encoding, chunks));
      const all = Buffer.concat(chunks);
      const [size, hash] = chdb.session
        .query(`SELECT length(raw), cityHash64(raw) FROM file('${file}', 'RawBLOB', 'raw String', '${methods[encoding]}')`, 'TSV')
        .toString()
        .trim()
        .split('\t');
      expect(Number(size)).toBe(all.length);
      expect(hash).toBe(cityHash64(all).toString());
    });
  }
});
