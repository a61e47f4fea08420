import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClickHouseError, Codes } from '../src/errors.js';
import { cityHash128 } from '../src/codec/cityhash128.js';
import { MAX_BLOCK, Method, NativeBlockEncoder, decodeBlocks, encodeBlock } from '../src/codec/native-blocks.js';
import { zstdCompress, zstdReady } from '../src/codec/zstd.js';
import { openChdb, randomBytes, throughput, tsvBytes } from './codec-support.js';

interface Block {
  file: string;
  method: number;
  /** The whole block, checksum included. */
  bytes: Buffer;
}

/** Splits a file of compressed blocks by their headers alone. */
function blocksOf(file: string): Block[] {
  const buf = readFileSync(file);
  const blocks: Block[] = [];
  for (let pos = 0; pos < buf.length; ) {
    const end = pos + 16 + buf.readUInt32LE(pos + 17);
    blocks.push({ file, method: buf[pos + 16]!, bytes: buf.subarray(pos, end) });
    pos = end;
  }
  return blocks;
}

const codeOf = (fn: () => unknown): number | undefined => {
  try {
    fn();
  } catch (e) {
    if (e instanceof ClickHouseError) return e.code;
    throw e;
  }
  return undefined;
};

/** A block with a correct checksum around whatever header and payload we like. */
function forge(method: number, size: number, payload: Buffer): Buffer {
  const block = Buffer.alloc(25 + payload.length);
  block[16] = method;
  block.writeUInt32LE(9 + payload.length, 17);
  block.writeUInt32LE(size, 21);
  payload.copy(block, 25);
  cityHash128(block.subarray(16), block, 0);
  return block;
}

let chdb: ReturnType<typeof openChdb>;
let blocks: Block[];

beforeAll(() => {
  chdb = openChdb();
  const q = (sql: string) => chdb.session.query(sql, 'TSV');
  // Every column file ClickHouse writes is a sequence of these blocks. Mix the
  // codecs (LZ4 default, ZSTD, NONE), compressible and random data, big parts
  // (many 1 MiB blocks) and tiny ones (blocks of a few bytes, which take the
  // hash's short-input branches).
  q(`CREATE TABLE mt (id UInt64, label String, noise String CODEC(ZSTD(1)), raw String CODEC(NONE), x Float64)
     ENGINE = MergeTree ORDER BY tuple() SETTINGS min_bytes_for_wide_part = 0`);
  q(`INSERT INTO mt SELECT number, concat('user_', toString(number % 1000)), randomString(40), toString(number), rand64() / 3
     FROM numbers(150000)`);
  q(`INSERT INTO mt VALUES (1, 'a', 'b', 'c', 0.5)`);
  q(`INSERT INTO mt SELECT number, 'same', 'same', 'same', 1 FROM numbers(17)`);
  for (let rows = 1; rows <= 40; rows += 3) {
    q(`CREATE TABLE tiny${rows} (b UInt8, s String) ENGINE = TinyLog`);
    q(`INSERT INTO tiny${rows} SELECT number, randomPrintableASCII(number % 7) FROM numbers(${rows})`);
  }
  q(`CREATE TABLE log (a UInt32, s String) ENGINE = TinyLog`);
  q(`INSERT INTO log SELECT number, randomPrintableASCII(number % 50) FROM numbers(300000)`);
  const files = execFileSync('find', [chdb.dir, '-name', '*.bin', '-type', 'f']).toString().trim().split('\n');
  blocks = files.flatMap(blocksOf);
}, 120_000);

afterAll(() => chdb?.close());

describe('decodeBlocks on the blocks ClickHouse wrote to disk', () => {
  it('sees all three methods and blocks from a few bytes up to 1 MiB', () => {
    expect(new Set(blocks.map((b) => b.method))).toEqual(new Set([Method.LZ4, Method.ZSTD, Method.NONE]));
    const sizes = blocks.map((b) => b.bytes.length - 16);
    expect(Math.min(...sizes)).toBeLessThan(16);
    expect(sizes.some((n) => n >= 16 && n < 144)).toBe(true);
    expect(Math.max(...sizes)).toBeGreaterThan(100_000);
  });

  it('finds every stored checksum equal to our CityHash128', () => {
    const wrong = blocks.filter((b) => !b.bytes.subarray(0, 16).equals(cityHash128(b.bytes.subarray(16))));
    expect(wrong.map((b) => `${b.file} ${b.bytes.length}`)).toEqual([]);
  });

  it('decodes each file whole, to the same bytes as block by block', () => {
    const byFile = new Map<string, Block[]>();
    for (const b of blocks) byFile.set(b.file, [...(byFile.get(b.file) ?? []), b]);
    for (const [file, fileBlocks] of byFile) {
      const whole = decodeBlocks(readFileSync(file), 1 << 30);
      const parts = fileBlocks.map((b) => decodeBlocks(b.bytes, 1 << 30));
      expect(whole.equals(Buffer.concat(parts))).toBe(true);
      fileBlocks.forEach((b, i) => expect(parts[i]!.length).toBe(b.bytes.readUInt32LE(21)));
    }
  });

  it('re-encodes every block so that it decodes back to the same bytes', () => {
    for (const b of blocks) {
      const raw = decodeBlocks(b.bytes, 1 << 30);
      const again = encodeBlock(raw);
      expect(again[16]).toBe(Method.LZ4);
      expect(decodeBlocks(again, 1 << 30).equals(raw)).toBe(true);
    }
  });
});

describe('ClickHouse reading blocks we wrote', () => {
  it('reads a TinyLog table whose column files we re-encoded, and rejects a corrupt one as we do', () => {
    const q = (sql: string) => chdb.session.query(sql, 'TSV').toString();
    const summary = `SELECT count(), sum(a), sum(cityHash64(s)) FROM log`;
    const before = q(summary);
    const column = blocks.find((b) => b.file.endsWith('/a.bin') && readFileSync(b.file).length > 1_000_000)!.file;
    const dir = dirname(column);
    q(`DETACH TABLE log`);
    // TinyLog reads each column file straight through, so block boundaries
    // are ours to choose; sizes.json must only agree with the new sizes.
    const sizes: Record<string, { size: string }> = {};
    for (const name of ['a.bin', 's.bin']) {
      const raw = decodeBlocks(readFileSync(`${dir}/${name}`), 1 << 30);
      const ours: Buffer[] = [];
      for (let at = 0; at < raw.length; at += 300_001) ours.push(encodeBlock(raw.subarray(at, at + 300_001)));
      const file = Buffer.concat(ours);
      writeFileSync(`${dir}/${name}`, file);
      sizes[name.replace('.', '%2E')] = { size: String(file.length) };
    }
    writeFileSync(`${dir}/sizes.json`, JSON.stringify({ clickhouse: sizes }));
    q(`ATTACH TABLE log`);
    expect(q(summary)).toBe(before);

    q(`DETACH TABLE log`);
    const corrupt = readFileSync(`${dir}/a.bin`);
    corrupt[1000]! ^= 0x40;
    writeFileSync(`${dir}/a.bin`, corrupt);
    q(`ATTACH TABLE log`);
    let theirs = '';
    try {
      q(summary);
    } catch (e) {
      theirs = (e as Error).message;
    }
    expect(theirs).toContain('Code: 40.');
    let ours = '';
    try {
      decodeBlocks(corrupt, 1 << 30);
    } catch (e) {
      expect(e).toBeInstanceOf(ClickHouseError);
      expect((e as ClickHouseError).code).toBe(Codes.CHECKSUM_DOESNT_MATCH);
      ours = (e as Error).message;
    }
    // Same wording and the same two numbers as ClickHouse prints.
    const detail = /Checksum doesn't match: corrupted data\. Reference: [0-9a-f]{32}\. Actual: [0-9a-f]{32}\. Size of compressed block: \d+/;
    expect(ours.match(detail)?.[0]).toBeDefined();
    expect(theirs.match(detail)?.[0]).toBe(ours.match(detail)?.[0]);
  });
});

describe('encodeBlock / NativeBlockEncoder', () => {
  it('writes the documented header: LZ4 method, sizes, checksum over header and payload', () => {
    const data = tsvBytes(100_000, 1);
    const block = encodeBlock(data);
    expect(block[16]).toBe(0x82);
    expect(block.readUInt32LE(17)).toBe(block.length - 16);
    expect(block.readUInt32LE(21)).toBe(data.length);
    expect(block.length).toBeLessThan(data.length / 2);
    expect(block.subarray(0, 16).equals(cityHash128(block.subarray(16)))).toBe(true);
    expect(decodeBlocks(block, data.length).equals(data)).toBe(true);
  });

  it('handles incompressible data and single bytes', () => {
    for (const data of [randomBytes(MAX_BLOCK, 2), Buffer.from([7]), randomBytes(13, 3)]) {
      expect(decodeBlocks(encodeBlock(data), MAX_BLOCK).equals(data)).toBe(true);
    }
  });

  it('pushes each chunk as blocks at once, splitting at 1 MiB, never waiting for the next chunk', async () => {
    const encoder = new NativeBlockEncoder();
    const out: Buffer[] = [];
    encoder.on('data', (b: Buffer) => out.push(b));
    const first = tsvBytes(10_000, 4);
    encoder.write(first);
    await sleep(20);
    expect(decodeBlocks(Buffer.concat(out), 1 << 30).equals(first)).toBe(true);
    const big = randomBytes(2 * MAX_BLOCK + 5, 5);
    encoder.write(big);
    encoder.write(Buffer.alloc(0));
    await sleep(20);
    const blocksSoFar = Buffer.concat(out);
    expect(decodeBlocks(blocksSoFar, 1 << 30).equals(Buffer.concat([first, big]))).toBe(true);
    expect(out).toHaveLength(4); // 1 + 3 (1 MiB, 1 MiB, 5 bytes); the empty chunk adds none
    expect(out.map((b) => b.readUInt32LE(21))).toEqual([first.length, MAX_BLOCK, MAX_BLOCK, 5]);
    const last = tsvBytes(3000, 6);
    encoder.end(last);
    await new Promise((resolve) => encoder.on('end', resolve));
    expect(decodeBlocks(Buffer.concat(out), 1 << 30).equals(Buffer.concat([first, big, last]))).toBe(true);
  });
});

describe('decodeBlocks errors', () => {
  const good = encodeBlock(tsvBytes(50_000, 7));

  it('a changed byte anywhere: 40 CHECKSUM_DOESNT_MATCH', () => {
    // (Not the compressed-size field: changing it moves the block's end.)
    for (const at of [0, 15, 16, 21, 24, 30, good.length - 1]) {
      const bad = Buffer.from(good);
      bad[at]! ^= 1;
      expect(codeOf(() => decodeBlocks(bad, 1 << 30))).toBe(40);
    }
  });

  it('truncated or garbled: 271 CANNOT_DECOMPRESS', () => {
    expect(codeOf(() => decodeBlocks(good.subarray(0, 20), 1 << 30))).toBe(271);
    expect(codeOf(() => decodeBlocks(good.subarray(0, good.length - 1), 1 << 30))).toBe(271);
    expect(codeOf(() => decodeBlocks(Buffer.concat([good, good.subarray(0, 30)]), 1 << 30))).toBe(271);
    expect(codeOf(() => decodeBlocks(forge(Method.LZ4, 1000, randomBytes(100, 8)), 1 << 30))).toBe(271);
    expect(codeOf(() => decodeBlocks(forge(Method.NONE, 99, randomBytes(100, 8)), 1 << 30))).toBe(271);
    // A valid LZ4 block whose header claims more than it holds.
    expect(codeOf(() => decodeBlocks(forge(Method.LZ4, 50_001, good.subarray(25)), 1 << 30))).toBe(271);
    const header = Buffer.from(good);
    header.writeUInt32LE(3, 17); // compressed size below the header's own 9 bytes
    expect(codeOf(() => decodeBlocks(header, 1 << 30))).toBe(271);
  });

  it('an unknown method byte: 89 UNKNOWN_COMPRESSION_METHOD', () => {
    expect(codeOf(() => decodeBlocks(forge(0x91, 4, Buffer.from('abcd')), 1 << 30))).toBe(89);
  });

  it('decodes NONE and ZSTD blocks as well as LZ4', async () => {
    await zstdReady();
    const data = tsvBytes(70_000, 9);
    const body = Buffer.concat([forge(Method.NONE, 5, Buffer.from('hello')), forge(Method.ZSTD, data.length, zstdCompress(data, 3)), good]);
    expect(decodeBlocks(body, 1 << 30).equals(Buffer.concat([Buffer.from('hello'), data, decodeBlocks(good, 1 << 30)]))).toBe(true);
    expect(codeOf(() => decodeBlocks(forge(Method.ZSTD, 10, zstdCompress(data, 3)), 1 << 30))).toBe(271);
  });

  it('refuses from the headers alone when the decoded total would pass the limit', () => {
    const body = Buffer.concat([good, good, good]);
    expect(decodeBlocks(body, 150_000).length).toBe(150_000);
    expect(codeOf(() => decodeBlocks(body, 149_999))).toBe(Codes.QUERY_IS_TOO_LARGE);
    // A block claiming 4 GiB is refused before anything is allocated.
    expect(codeOf(() => decodeBlocks(forge(Method.LZ4, 0xffffffff, Buffer.from([0x10, 0x41])), 1 << 30))).toBe(229);
  });

  it('accepts an empty body', () => {
    expect(decodeBlocks(Buffer.alloc(0), 0).length).toBe(0);
  });
});

describe('throughput', () => {
  it('reports LZ4 block encode/decode MB/s on 1 MiB blocks', () => {
    for (const [kind, data] of [
      ['text', tsvBytes(MAX_BLOCK, 10)],
      ['random', randomBytes(MAX_BLOCK, 11)],
    ] as const) {
      const block = encodeBlock(data);
      const encode = throughput(data.length, 20, () => encodeBlock(data));
      const decode = throughput(data.length, 20, () => decodeBlocks(block, MAX_BLOCK));
      console.log(
        `native blocks, ${kind}: encode ${encode.toFixed(0)} MB/s, decode ${decode.toFixed(0)} MB/s ` +
          `(checksum included), ratio ${(block.length / data.length).toFixed(3)}`,
      );
      expect(Math.min(encode, decode)).toBeGreaterThan(10);
    }
  });
});
