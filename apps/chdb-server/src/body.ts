import type { IncomingMessage } from 'node:http';
import zlib from 'node:zlib';
import { run } from './compression.js';
import { Codes, chError } from './errors.js';

type ZstdZlib = {
  zstdDecompress?: (
    buf: Buffer,
    opts: { maxOutputLength: number },
    cb: (err: Error | null, out: Buffer) => void,
  ) => void;
};
const zstd = zlib as unknown as ZstdZlib;

export function tooLarge(limit: number): Error {
  return chError(
    Codes.QUERY_IS_TOO_LARGE,
    `Request body exceeds the limit of ${limit} bytes (CHDB_MAX_BODY_BYTES)`,
  );
}

/**
 * Undoes a request's Content-Encoding. The output is capped at `limit` too,
 * because a few KiB of gzip can expand to gigabytes.
 */
export async function decodeBody(
  raw: Buffer,
  contentEncoding: string | undefined,
  limit: number,
): Promise<Buffer> {
  const encoding = (contentEncoding ?? '').trim().toLowerCase();
  if (encoding === '' || encoding === 'identity' || raw.length === 0) return raw;
  const opts = { maxOutputLength: limit };
  try {
    switch (encoding) {
      case 'gzip':
      case 'x-gzip':
        return await run((cb) => zlib.gunzip(raw, opts, cb));
      case 'deflate':
        return await run((cb) => zlib.inflate(raw, opts, cb));
      case 'br':
        return await run((cb) => zlib.brotliDecompress(raw, opts, cb));
      case 'zstd': {
        const z = zstd.zstdDecompress;
        if (z) return await run((cb) => z(raw, opts, cb));
        break;
      }
    }
  } catch (e) {
    if ((e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge(limit);
    throw chError(
      Codes.CANNOT_DECOMPRESS,
      `Cannot decompress the request body (${encoding}): ${(e as Error).message}`,
    );
  }
  throw chError(Codes.UNKNOWN_COMPRESSION_METHOD, `Unknown Content-Encoding '${encoding}'`);
}


/**
 * Reads the whole request body, enforcing the size limit on the bytes as sent
 * and again after Content-Encoding is undone.
 */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw tooLarge(limit);
    chunks.push(chunk);
  }
  const header = req.headers['content-encoding'];
  return decodeBody(Buffer.concat(chunks, size), header, limit);
}
