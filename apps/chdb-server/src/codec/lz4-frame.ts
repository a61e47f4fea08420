/**
 * The LZ4 *frame* format (lz4 CLI, LZ4F): what ClickHouse means by
 * `Content-Encoding: lz4` and `COMPRESSION 'lz4'`. Not to be confused with
 * the bare LZ4 blocks inside its native compressed blocks.
 *
 * lz4-napi (lz4_flex) does the block work; the frame around it is done here
 * because lz4-napi's frame functions are one-shot: they neither stream nor
 * stop at a size limit.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { compressSync, uncompressSync } from 'lz4-napi';
import { Codes, chError } from '../errors.js';
import { tooLarge } from './limit.js';
import { xxh32 } from './xxh32.js';

const MAGIC = 0x184d2204;
const SKIPPABLE_MASK = 0xfffffff0;
const SKIPPABLE = 0x184d2a50;
const UNCOMPRESSED = 0x80000000;
const BLOCK_MAX = [0, 0, 0, 0, 64 << 10, 256 << 10, 1 << 20, 4 << 20];
// Linked blocks may copy from the previous 64 KiB of output.
const WINDOW = 64 << 10;

// What we write: version 01, independent blocks, no checksums, 256 KiB blocks
// (ClickHouse's own choice, so any reader of its output can read ours).
const FLG = 0x60;
const BD = 0x50;
const OUR_BLOCK = 256 << 10;
const HEADER = Buffer.from([0x04, 0x22, 0x4d, 0x18, FLG, BD, (xxh32(Buffer.from([FLG, BD])) >>> 8) & 0xff]);
const END_MARK = Buffer.alloc(4);

const asBuffer = (d: Uint8Array) => (Buffer.isBuffer(d) ? d : Buffer.from(d.buffer, d.byteOffset, d.byteLength));

/** One frame block: LZ4-compressed, or stored as is when that is smaller. */
function frameBlock(data: Buffer): Buffer {
  const packed = compressSync(data); // 4-byte size prefix, then the LZ4 block
  const size = packed.length - 4;
  if (size >= data.length) {
    const out = Buffer.allocUnsafe(4 + data.length);
    out.writeUInt32LE((UNCOMPRESSED | data.length) >>> 0, 0);
    data.copy(out, 4);
    return out;
  }
  packed.writeUInt32LE(size, 0);
  return packed;
}

/**
 * One frame for the whole stream; every chunk written comes out at once as
 * whole independent blocks, so the reader can decode it before the next one.
 */
export class Lz4FrameEncoder extends Transform {
  private started = false;

  private start(): void {
    if (!this.started) this.push(HEADER);
    this.started = true;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    try {
      this.start();
      for (let at = 0; at < chunk.length; at += OUR_BLOCK) {
        this.push(frameBlock(asBuffer(chunk.subarray(at, at + OUR_BLOCK))));
      }
      done();
    } catch (e) {
      done(e as Error);
    }
  }

  override _flush(done: TransformCallback): void {
    this.start();
    this.push(END_MARK);
    done();
  }
}

const bad = (what: string) => chError(Codes.CANNOT_DECOMPRESS, `Cannot decompress lz4 data: ${what}`);

function need(buf: Buffer, pos: number, n: number): void {
  if (pos + n > buf.length) throw bad('truncated frame');
}

function decodeBlock(data: Buffer, blockMax: number, window: Buffer | undefined): Buffer {
  // lz4-napi wants the output size before the block; the frame's maximum
  // block size is an upper bound it accepts, and it caps the allocation.
  const input = Buffer.allocUnsafe(4 + data.length);
  input.writeUInt32LE(blockMax, 0);
  data.copy(input, 4);
  try {
    return window ? uncompressSync(input, window) : uncompressSync(input);
  } catch (e) {
    throw bad((e as Error).message);
  }
}

/**
 * Decodes concatenated LZ4 frames (skippable frames allowed), linked or
 * independent blocks, verifying whichever checksums the frames carry. Output
 * past `limit` throws tooLarge; at most one block (≤ 4 MiB) is inflated
 * beyond it.
 */
export function decodeLz4(buf: Buffer, limit: number): Buffer {
  const parts: Buffer[] = [];
  let total = 0;
  let pos = 0;
  while (pos < buf.length) {
    need(buf, pos, 4);
    const magic = buf.readUInt32LE(pos);
    if (((magic & SKIPPABLE_MASK) >>> 0) === SKIPPABLE) {
      need(buf, pos, 8);
      pos += 8 + buf.readUInt32LE(pos + 4);
      if (pos > buf.length) throw bad('truncated skippable frame');
      continue;
    }
    if (magic !== MAGIC) throw bad('not an LZ4 frame');
    need(buf, pos, 7);
    const flg = buf[pos + 4]!;
    const bd = buf[pos + 5]!;
    if (flg >> 6 !== 1 || flg & 0x02 || bd & 0x8f) throw bad('unsupported frame version or reserved bits set');
    if (flg & 0x01) throw bad('frames needing a dictionary are not supported');
    const blockMax = BLOCK_MAX[(bd >> 4) & 7]!;
    if (!blockMax) throw bad('invalid maximum block size');
    const linked = !(flg & 0x20);
    const blockChecksum = (flg & 0x10) !== 0;
    const contentChecksum = (flg & 0x04) !== 0;
    const descriptorLength = 2 + (flg & 0x08 ? 8 : 0);
    need(buf, pos + 4, descriptorLength + 1);
    const descriptor = buf.subarray(pos + 4, pos + 4 + descriptorLength);
    if (((xxh32(descriptor) >>> 8) & 0xff) !== buf[pos + 4 + descriptorLength]) throw bad('header checksum mismatch');
    const declared = flg & 0x08 ? Number(descriptor.readBigUInt64LE(2)) : -1;
    if (declared > limit - total) throw tooLarge(limit);
    pos += 4 + descriptorLength + 1;

    const frameParts: Buffer[] = [];
    let frameSize = 0;
    let window: Buffer | undefined;
    for (;;) {
      need(buf, pos, 4);
      const word = buf.readUInt32LE(pos);
      pos += 4;
      if (word === 0) break;
      const size = (word & ~UNCOMPRESSED) >>> 0;
      if (size > blockMax) throw bad('block larger than the frame allows');
      need(buf, pos, size + (blockChecksum ? 4 : 0));
      const data = buf.subarray(pos, pos + size);
      pos += size;
      if (blockChecksum) {
        if (xxh32(data) !== buf.readUInt32LE(pos)) throw bad('block checksum mismatch');
        pos += 4;
      }
      const out = word & UNCOMPRESSED ? data : decodeBlock(data, blockMax, window);
      total += out.length;
      if (total > limit) throw tooLarge(limit);
      frameParts.push(out);
      frameSize += out.length;
      if (linked) {
        window = out.length >= WINDOW ? out.subarray(out.length - WINDOW) : Buffer.concat(window ? [window, out] : [out]);
        if (window.length > WINDOW) window = window.subarray(window.length - WINDOW);
      }
    }
    if (contentChecksum) {
      need(buf, pos, 4);
      if (xxh32(Buffer.concat(frameParts, frameSize)) !== buf.readUInt32LE(pos)) throw bad('content checksum mismatch');
      pos += 4;
    }
    if (declared >= 0 && declared !== frameSize) throw bad('frame content size mismatch');
    parts.push(...frameParts);
  }
  return Buffer.concat(parts, total);
}
