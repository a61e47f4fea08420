import zlib from 'node:zlib';

export type Encoding = 'zstd' | 'br' | 'gzip' | 'deflate';

// zstd arrived in node:zlib with Node 22.15; on Node 20 it simply is not offered.
type ZstdZlib = {
  zstdCompress?: (buf: Buffer, cb: (err: Error | null, out: Buffer) => void) => void;
};
const zstd = zlib as unknown as ZstdZlib;

/**
 * The response encoding a ClickHouse server would pick from Accept-Encoding:
 * it matches by substring in the fixed order zstd, br, gzip, deflate (lz4,
 * snappy, xz and bz2 come between or after but Node has no codec for them).
 */
export function chooseEncoding(acceptEncoding: string | undefined): Encoding | undefined {
  const list = (acceptEncoding ?? '').toLowerCase();
  if (list.includes('zstd') && zstd.zstdCompress) return 'zstd';
  if (list.includes('br')) return 'br';
  if (list.includes('gzip')) return 'gzip';
  if (list.includes('deflate')) return 'deflate';
  return undefined;
}

type Callback = (err: Error | null, out: Buffer) => void;

export function run(fn: (cb: Callback) => void): Promise<Buffer> {
  return new Promise((resolve, reject) => fn((err, out) => (err ? reject(err) : resolve(out))));
}

/** Compresses a whole response body; `level` is http_zlib_compression_level (1..9). */
export function compress(body: Buffer, encoding: Encoding, level: number): Promise<Buffer> {
  switch (encoding) {
    case 'gzip':
      return run((cb) => zlib.gzip(body, { level }, cb));
    case 'deflate':
      return run((cb) => zlib.deflate(body, { level }, cb));
    case 'br':
      return run((cb) =>
        zlib.brotliCompress(body, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: level } }, cb),
      );
    case 'zstd': {
      const z = zstd.zstdCompress;
      if (!z) throw new Error('zstd is not available in this Node.js');
      return run((cb) => z(body, cb));
    }
  }
}
