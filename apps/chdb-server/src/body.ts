import type { IncomingMessage } from 'node:http';
import { decodeBody } from './codec/http-encoding.js';
import { tooLarge } from './codec/limit.js';
import { decodeBlocks } from './codec/native-blocks.js';

export { decodeBody, tooLarge };

export interface BodyOptions {
  /**
   * `decompress=1`: the body (once its Content-Encoding is undone, as
   * ClickHouse layers them) is ClickHouse native compressed blocks.
   */
  nativeBlocks?: boolean;
}

/**
 * Reads the whole request body, enforcing the size limit on the bytes as sent
 * and again after each decoding step.
 */
export async function readBody(req: IncomingMessage, limit: number, options: BodyOptions = {}): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw tooLarge(limit);
    chunks.push(chunk);
  }
  const body = await decodeBody(Buffer.concat(chunks, size), req.headers['content-encoding'], limit);
  return options.nativeBlocks && body.length > 0 ? decodeBlocks(body, limit) : body;
}
