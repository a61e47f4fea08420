/**
 * Zstandard for Node 20, whose zlib has none (it arrived in 22.15).
 *
 * Encoding uses @bokuweb/zstd-wasm: the reference C library built to WASM, so
 * nothing native to install. Decoding uses fzstd (pure JS) instead, because
 * the WASM build only exposes one-shot ZSTD_decompress, which sizes its output
 * from the frame header (absent in ClickHouse's streamed frames) and cannot be
 * stopped at a size limit; fzstd streams block by block, so the limit is
 * checked as bytes come out.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { compress, init } from '@bokuweb/zstd-wasm';
import { Decompress } from 'fzstd';
import { ClickHouseError, Codes, chError } from '../errors.js';
import { tooLarge } from './limit.js';

let ready: Promise<void> | undefined;
let loaded = false;

/** Loads the WASM encoder once; await it before zstdCompress. */
export function zstdReady(): Promise<void> {
  ready ??= init().then(() => {
    loaded = true;
  });
  return ready;
}

/** One complete zstd frame (content size in its header). Call after zstdReady(). */
export function zstdCompress(data: Uint8Array, level: number): Buffer {
  const out = compress(data, Math.min(22, Math.max(1, level)));
  return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
}

// Each frame is compressed in one call, so its input is the WASM heap's
// high-water mark (the heap never shrinks): keep it small.
const FRAME_INPUT = 1 << 20;

/**
 * One zstd frame per chunk written (at most 1 MiB each), pushed at once:
 * concatenated frames are one valid zstd stream, and each is decodable on
 * arrival, so a streamed response stays streamed.
 */
export class ZstdFrameEncoder extends Transform {
  private wrote = false;

  constructor(private readonly level: number) {
    super();
  }

  private encode(chunk: Buffer): void {
    for (let at = 0; at < chunk.length; at += FRAME_INPUT) {
      this.push(zstdCompress(chunk.subarray(at, at + FRAME_INPUT), this.level));
      this.wrote = true;
    }
  }

  private whenLoaded(work: () => void, done: TransformCallback): void {
    const run = () => {
      try {
        work();
        done();
      } catch (e) {
        done(e as Error);
      }
    };
    if (loaded) run();
    else zstdReady().then(run, done);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.whenLoaded(() => this.encode(chunk), done);
  }

  override _flush(done: TransformCallback): void {
    // An empty body still gets one (empty) frame: zero bytes are not a valid zstd stream.
    this.whenLoaded(() => {
      if (!this.wrote) this.push(zstdCompress(new Uint8Array(0), this.level));
    }, done);
  }
}

const MAGIC = 0xfd2fb528;
const SKIPPABLE_MASK = 0xfffffff0;
const SKIPPABLE = 0x184d2a50;
// zstd's own decoder refuses windows above 2^27 unless told otherwise
// (ZSTD_WINDOWLOG_LIMIT_DEFAULT), and so does ClickHouse by default.
const MAX_WINDOW = 1 << 27;
// Windows up to this size pass whatever the limit (every level up to 19 fits).
const SMALL_WINDOW = 8 << 20;

const bad = (what: string) => chError(Codes.CANNOT_DECOMPRESS, `Cannot decompress zstd data: ${what}`);

/**
 * Walks the frames without decoding them, to refuse before any allocation a
 * window that fzstd would allocate whole, or a declared size over the limit.
 */
function checkFrames(buf: Buffer, limit: number): void {
  const maxWindow = Math.min(MAX_WINDOW, Math.max(limit, SMALL_WINDOW));
  let pos = 0;
  let declared = 0;
  while (pos < buf.length) {
    if (buf.length - pos < 8) throw bad('truncated frame');
    const magic = buf.readUInt32LE(pos);
    if (((magic & SKIPPABLE_MASK) >>> 0) === SKIPPABLE) {
      pos += 8 + buf.readUInt32LE(pos + 4);
      continue;
    }
    if (magic !== MAGIC) throw bad('unknown frame descriptor');
    const fhd = buf[pos + 4]!;
    const fcsFlag = fhd >> 6;
    const single = (fhd >> 5) & 1;
    if (fhd & 0x08) throw bad('reserved bit set in frame header');
    if (fhd & 0x03) throw bad('frames needing a dictionary are not supported');
    let p = pos + 5;
    let window = 0;
    if (!single) {
      const wd = buf[p++]!;
      const base = 2 ** (10 + (wd >> 3));
      window = base + (base / 8) * (wd & 7);
    }
    const fcsBytes = fcsFlag === 0 ? single : 1 << fcsFlag;
    if (p + fcsBytes > buf.length) throw bad('truncated frame header');
    let size = -1;
    if (fcsBytes === 1) size = buf[p]!;
    else if (fcsBytes === 2) size = buf.readUInt16LE(p) + 256;
    else if (fcsBytes === 4) size = buf.readUInt32LE(p);
    else if (fcsBytes === 8) size = Number(buf.readBigUInt64LE(p));
    p += fcsBytes;
    if (single) window = size;
    if (window > maxWindow) throw bad(`frame window of ${window} bytes is too large`);
    if (size >= 0) {
      declared += size;
      if (declared > limit) throw tooLarge(limit);
    }
    for (;;) {
      if (p + 3 > buf.length) throw bad('truncated block header');
      const header = buf[p]! | (buf[p + 1]! << 8) | (buf[p + 2]! << 16);
      const type = (header >> 1) & 3;
      if (type === 3) throw bad('reserved block type');
      p += 3 + (type === 1 ? 1 : header >>> 3);
      if (header & 1) break;
    }
    if (fhd & 0x04) p += 4; // content checksum
    if (p > buf.length) throw bad('truncated frame');
    pos = p;
  }
}

/**
 * Decodes one or more concatenated zstd frames (skippable frames allowed), as
 * ClickHouse's ZstdInflatingReadBuffer does. Output over `limit` bytes throws
 * tooLarge as soon as it is produced.
 */
export function decodeZstd(buf: Buffer, limit: number): Buffer {
  if (buf.length === 0) return buf;
  checkFrames(buf, limit);
  const parts: Uint8Array[] = [];
  let size = 0;
  const stream = new Decompress((chunk) => {
    size += chunk.length;
    if (size > limit) throw tooLarge(limit);
    parts.push(chunk);
  });
  try {
    stream.push(buf, true);
  } catch (e) {
    if (e instanceof ClickHouseError) throw e;
    throw bad((e as Error).message);
  }
  return Buffer.concat(parts, size);
}
