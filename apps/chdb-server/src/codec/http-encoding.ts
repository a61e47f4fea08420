/**
 * HTTP Content-Encoding both ways, as ClickHouse's HTTP interface does it:
 * the response encoding is picked from Accept-Encoding (when
 * enable_http_compression=1), and a request body is decoded by its
 * Content-Encoding.
 */
import { constants as bufferConstants } from 'node:buffer';
import type { Transform } from 'node:stream';
import zlib from 'node:zlib';
import { ClickHouseError, Codes, chError } from '../errors.js';
import { tooLarge } from './limit.js';
import { Lz4FrameEncoder, decodeLz4 } from './lz4-frame.js';
import { ZstdFrameEncoder, decodeZstd } from './zstd.js';

export type HttpEncoding = 'zstd' | 'br' | 'lz4' | 'gzip' | 'deflate';

/**
 * ClickHouse's chooseHTTPCompressionMethod, minus what Node cannot encode: it
 * looks for each name as a substring of the header, in the order zstd, br,
 * lz4, snappy, gzip, deflate, xz, bz2, ignoring q-values.
 */
const PREFERENCE: readonly HttpEncoding[] = ['zstd', 'br', 'lz4', 'gzip', 'deflate'];

export function chooseEncoding(acceptEncoding: string | undefined): HttpEncoding | undefined {
  const list = (acceptEncoding ?? '').toLowerCase();
  return PREFERENCE.find((name) => list.includes(name));
}

const clamp = (n: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, Math.trunc(n) || lo));

/**
 * A streaming encoder whose output for every chunk written comes out at once
 * and is decodable on arrival (zlib: a sync flush per write; brotli: a flush
 * per write; zstd: a frame per chunk; lz4: a block per chunk), so a streamed
 * response stays streamed. Memory is bounded by the chunk size.
 * `level` is http_zlib_compression_level (1..9); lz4 has no levels here.
 */
export function createEncoder(encoding: HttpEncoding, level: number): Transform {
  switch (encoding) {
    case 'gzip':
      return zlib.createGzip({ level: clamp(level, 1, 9), flush: zlib.constants.Z_SYNC_FLUSH });
    case 'deflate':
      return zlib.createDeflate({ level: clamp(level, 1, 9), flush: zlib.constants.Z_SYNC_FLUSH });
    case 'br':
      return zlib.createBrotliCompress({
        flush: zlib.constants.BROTLI_OPERATION_FLUSH,
        params: { [zlib.constants.BROTLI_PARAM_QUALITY]: clamp(level, 0, 11) },
      });
    case 'zstd':
      return new ZstdFrameEncoder(clamp(level, 1, 22));
    case 'lz4':
      return new Lz4FrameEncoder();
  }
}

/** Content-Encoding names, with the aliases ClickHouse's chooseCompressionMethod takes. */
const NAMES = new Map<string, HttpEncoding | 'identity'>([
  ['', 'identity'],
  ['identity', 'identity'],
  ['none', 'identity'],
  ['auto', 'identity'],
  ['gzip', 'gzip'],
  ['x-gzip', 'gzip'],
  ['gz', 'gzip'],
  ['deflate', 'deflate'],
  ['br', 'br'],
  ['brotli', 'br'],
  ['zstd', 'zstd'],
  ['zst', 'zstd'],
  ['lz4', 'lz4'],
]);
/** Methods ClickHouse decodes that Node has no codec for. */
const UNSUPPORTED = new Set(['xz', 'lzma', 'bz2', 'snappy']);

type Callback = (err: Error | null, out: Buffer) => void;
const run = (fn: (cb: Callback) => void) =>
  new Promise<Buffer>((resolve, reject) => fn((err, out) => (err ? reject(err) : resolve(out))));

function decodeZlib(encoding: 'gzip' | 'deflate' | 'br', raw: Buffer, limit: number): Promise<Buffer> {
  // maxOutputLength makes zlib stop inflating at the limit instead of
  // allocating whatever a few KiB of zip bomb expand to.
  const opts = { maxOutputLength: Math.min(limit, bufferConstants.MAX_LENGTH) };
  switch (encoding) {
    case 'gzip':
      return run((cb) => zlib.gunzip(raw, opts, cb));
    case 'deflate':
      return run((cb) => zlib.inflate(raw, opts, cb));
    case 'br':
      return run((cb) => zlib.brotliDecompress(raw, opts, cb));
  }
}

/**
 * Undoes a request's Content-Encoding. The decoded size is capped at `limit`
 * too (tooLarge), because a few KiB of compressed data can expand to gigabytes.
 */
export async function decodeBody(raw: Buffer, contentEncoding: string | undefined, limit: number): Promise<Buffer> {
  const header = (contentEncoding ?? '').trim().toLowerCase();
  const encoding = NAMES.get(header);
  if (encoding === undefined) {
    if (UNSUPPORTED.has(header)) {
      throw chError(Codes.NOT_IMPLEMENTED, `Content-Encoding '${header}' is not supported by chdb-server`);
    }
    throw chError(
      Codes.NOT_IMPLEMENTED,
      `Unknown compression method '${header}'. Only 'auto', 'none', 'gzip', 'deflate', 'br', 'xz', 'zstd', 'lz4', ` +
        `'bz2', 'snappy' are supported as compression methods`,
    );
  }
  if (encoding === 'identity' || raw.length === 0) return raw;
  try {
    switch (encoding) {
      case 'zstd':
        return decodeZstd(raw, limit);
      case 'lz4':
        return decodeLz4(raw, limit);
      default:
        return await decodeZlib(encoding, raw, limit);
    }
  } catch (e) {
    if (e instanceof ClickHouseError) throw e;
    if ((e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge(limit);
    throw chError(Codes.CANNOT_DECOMPRESS, `Cannot decompress the request body (${encoding}): ${(e as Error).message}`);
  }
}
