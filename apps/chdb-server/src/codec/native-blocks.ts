/**
 * ClickHouse's own compressed-block format: what `compress=1` (response) and
 * `decompress=1` (request body) mean on its HTTP interface, and what it writes
 * into every column file on disk. clickhouse-jdbc / client-v2 ask for it by
 * default.
 *
 *   checksum    16 bytes  CityHash128 v1.0.2 of everything after it in the block
 *   method       1 byte   0x02 NONE, 0x82 LZ4, 0x90 ZSTD
 *   compressed   4 bytes  LE, header + payload (payload length + 9)
 *   size         4 bytes  LE, the block's uncompressed size
 *   payload               an LZ4 *block* (no frame), a zstd frame, or raw bytes
 */
import { Transform, type TransformCallback } from 'node:stream';
import { compressSync, uncompressSync } from 'lz4-napi';
import { ClickHouseError, Codes, chError } from '../errors.js';
import { cityHash128 } from './cityhash128.js';
import { tooLarge } from './limit.js';
import { decodeZstd } from './zstd.js';

export const Method = { NONE: 0x02, LZ4: 0x82, ZSTD: 0x90 } as const;

const CHECKSUM = 16;
const HEADER = 9;

/** ClickHouse's max_compress_block_size default; also what its readers expect per block. */
export const MAX_BLOCK = 1 << 20;

const asBuffer = (d: Uint8Array) => (Buffer.isBuffer(d) ? d : Buffer.from(d.buffer, d.byteOffset, d.byteLength));

/** One LZ4 block of `data` (keep it at most MAX_BLOCK), checksummed. */
export function encodeBlock(data: Uint8Array): Buffer {
  // lz4-napi puts the uncompressed size (4 bytes LE) before the LZ4 block.
  const packed = compressSync(asBuffer(data));
  const payload = packed.length - 4;
  const block = Buffer.allocUnsafe(CHECKSUM + HEADER + payload);
  block[CHECKSUM] = Method.LZ4;
  block.writeUInt32LE(HEADER + payload, CHECKSUM + 1);
  block.writeUInt32LE(data.byteLength, CHECKSUM + 5);
  packed.copy(block, CHECKSUM + HEADER, 4);
  cityHash128(block.subarray(CHECKSUM), block, 0);
  return block;
}

/**
 * Turns each chunk written into blocks as soon as it arrives, never holding
 * bytes back for a later chunk, so a streamed response stays streamed.
 */
export class NativeBlockEncoder extends Transform {
  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    try {
      for (let at = 0; at < chunk.length; at += MAX_BLOCK) {
        this.push(encodeBlock(chunk.subarray(at, at + MAX_BLOCK)));
      }
      done();
    } catch (e) {
      done(e as Error);
    }
  }
}

/** A checksum as ClickHouse prints it: the 128-bit number in hex, high digits first. */
const hex128 = (checksum: Uint8Array) => Buffer.from(checksum).reverse().toString('hex');

const corrupt = (what: string) => chError(Codes.CANNOT_DECOMPRESS, `Cannot decompress: ${what}`);

function payloadOf(method: number, block: Buffer, size: number): Buffer {
  const payload = block.subarray(HEADER);
  switch (method) {
    case Method.NONE:
      if (payload.length !== size) throw corrupt('NONE block whose sizes disagree');
      return payload;
    case Method.LZ4: {
      // The header's last 4 bytes are the uncompressed size, LE: exactly the
      // size prefix lz4-napi wants, so no copy is needed. It also bounds the
      // allocation, and the caller already checked it against the limit.
      let out: Buffer;
      try {
        out = uncompressSync(block.subarray(5));
      } catch (e) {
        throw corrupt(`Cannot decompress LZ4-encoded data: ${(e as Error).message}`);
      }
      if (out.length !== size) throw corrupt('LZ4 block shorter than its header says');
      return out;
    }
    case Method.ZSTD: {
      const out = decodeZstd(payload, size);
      if (out.length !== size) throw corrupt('ZSTD block shorter than its header says');
      return out;
    }
    default:
      throw chError(
        Codes.UNKNOWN_COMPRESSION_METHOD,
        `Unknown compression method: 0x${method.toString(16).padStart(2, '0')}`,
      );
  }
}

/**
 * Undoes `decompress=1`: a whole request body of blocks back to the raw bytes.
 * The decoded total may not pass `limit`; each block's header is checked
 * against it before the block is inflated, so a lying header allocates nothing.
 */
export function decodeBlocks(buf: Buffer, limit: number): Buffer {
  const parts: Buffer[] = [];
  let total = 0;
  let pos = 0;
  while (pos < buf.length) {
    if (buf.length - pos < CHECKSUM + HEADER) throw corrupt('the body ends inside a block header');
    const method = buf[pos + CHECKSUM]!;
    const compressed = buf.readUInt32LE(pos + CHECKSUM + 1);
    const size = buf.readUInt32LE(pos + CHECKSUM + 5);
    if (compressed < HEADER) throw corrupt(`impossible compressed block size ${compressed}`);
    const end = pos + CHECKSUM + compressed;
    if (end > buf.length) throw corrupt('the body ends inside a block');
    const block = buf.subarray(pos + CHECKSUM, end);
    const stored = buf.subarray(pos, pos + CHECKSUM);
    const actual = cityHash128(block);
    if (!stored.equals(actual)) {
      throw chError(
        Codes.CHECKSUM_DOESNT_MATCH,
        `Checksum doesn't match: corrupted data. Reference: ${hex128(stored)}. ` +
          `Actual: ${hex128(actual)}. Size of compressed block: ${compressed}`,
      );
    }
    total += size;
    if (total > limit) throw tooLarge(limit);
    try {
      parts.push(payloadOf(method, block, size));
    } catch (e) {
      if (e instanceof ClickHouseError && e.code === Codes.QUERY_IS_TOO_LARGE) {
        throw corrupt('ZSTD block longer than its header says');
      }
      throw e;
    }
    pos = end;
  }
  return Buffer.concat(parts, total);
}
