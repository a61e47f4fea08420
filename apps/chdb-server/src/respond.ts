import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { Readable, type Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { NativeBlockEncoder } from './codec/native-blocks.js';
import { createEncoder, type HttpEncoding } from './codec/http-encoding.js';
import type { Chunk, ChunkSource } from './engine.js';
import { type ClickHouseError, fromEngineError } from './errors.js';
import type { Progress } from './control.js';
import { querySummary, type Summary } from './executor.js';

export type Headers = Record<string, string>;

export interface Encoding {
  /** compress=1: ClickHouse's native compressed blocks. */
  native: boolean;
  http: { name: HttpEncoding; level: number } | undefined;
}

/**
 * How long, and how many bytes, the first output may wait for the rest before
 * the headers go. A result that ends inside this window is sent whole: its
 * status and X-ClickHouse-Summary are final, and an error in it is a plain
 * error response. Longer results stream from then on.
 */
const HOLD_MS = 50;
const HOLD_BYTES = 1 << 20;
const SAMPLE_EVERY_MS = 20;

function encoders(encoding: Encoding): Transform[] {
  const out: Transform[] = [];
  if (encoding.native) out.push(new NativeBlockEncoder());
  if (encoding.http) out.push(createEncoder(encoding.http.name, encoding.http.level));
  return out;
}

type AnyStream = NodeJS.ReadableStream | NodeJS.WritableStream | NodeJS.ReadWriteStream;

function chain(source: Readable, middle: Transform[], sink: NodeJS.WritableStream): ReadonlyArray<AnyStream> {
  return [source, ...middle, sink] as ReadonlyArray<AnyStream>;
}

function withEncodingHeaders(headers: Headers, encoding: Encoding): Headers {
  return encoding.http ? { ...headers, 'Content-Encoding': encoding.http.name } : headers;
}

/** Sends a body known in full: an error, an INSERT's empty answer, a small page. */
export async function sendWhole(
  res: ServerResponse,
  status: number,
  body: Buffer,
  headers: Headers,
  encoding: Encoding,
): Promise<void> {
  if (res.destroyed || res.headersSent) return;
  // An empty body goes out as is: no Content-Encoding, nothing for the client to inflate.
  if (body.length === 0) {
    res.writeHead(status, { ...headers, 'Content-Length': '0' });
    res.end();
    return;
  }
  const parts: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      parts.push(chunk);
      done();
    },
  });
  await pipeline(chain(Readable.from([body]), encoders(encoding), sink));
  const payload = Buffer.concat(parts);
  if (res.destroyed || res.headersSent) return;
  res.writeHead(status, { ...withEncodingHeaders(headers, encoding), 'Content-Length': String(payload.length) });
  res.end(payload);
}

/**
 * The tail a server writes when a query fails after its output began (clients
 * since 25.11 look for it, keyed by the X-ClickHouse-Exception-Tag header): the
 * error in-band, framed so it cannot be taken for data.
 */
export function exceptionBlock(tag: string, err: ClickHouseError): Buffer {
  const message = `${err.message.replace(/\n+$/, '')}\n`;
  const len = Buffer.byteLength(message);
  return Buffer.from(`__exception__\r\n${tag}\r\n${message}${len} ${tag}\r\n__exception__\r\n`);
}

export interface StreamOutcome {
  summary: Summary;
  /** Set when the query failed or was stopped after its output began. */
  error?: ClickHouseError;
  /** The client went away before the end. */
  aborted: boolean;
}

/**
 * Sends a query's result as the engine produces it. Errors before the first
 * byte is committed reject, so the caller answers with a proper status; errors
 * after it end the body with the exception block.
 */
export async function sendStream(opts: {
  res: ServerResponse;
  stream: ChunkSource;
  /** The first block, already read (undefined: the result is empty). */
  first: Chunk | undefined;
  headers: Headers;
  encoding: Encoding;
  waitEndOfQuery: boolean;
  /** The query's progress as the engine counts it; sampled after each held block. */
  progress: () => Promise<Progress | undefined>;
  /** send_progress_in_http_headers=1: an X-ClickHouse-Progress header too. */
  progressHeader: boolean;
  /** Called once the result is read in full, before the response ends. */
  onDrained: () => void;
}): Promise<StreamOutcome> {
  const { res, stream, encoding } = opts;
  const started = performance.now();
  let rows = 0;
  let bytes = 0;
  const held: Chunk[] = [];
  let heldBytes = 0;
  let ended = false;
  let read: Progress | undefined;
  const count = (c: Chunk): void => {
    rows += c.rows;
    bytes += c.bytes.length;
  };
  // The engine drops a query from its process list when its end is fetched, so
  // a sample taken after the last block is the final count. With
  // wait_end_of_query every block is followed by one (exact); otherwise at most
  // one per SAMPLE_EVERY_MS, as a server's summary is as of when it is sent.
  let sampledAt = -Infinity;
  const sample = async (): Promise<void> => {
    if (!opts.waitEndOfQuery && performance.now() - sampledAt < SAMPLE_EVERY_MS) return;
    sampledAt = performance.now();
    const p = await opts.progress().catch(() => undefined);
    if (p && (!read || p.readRows >= read.readRows)) read = p;
  };

  // Hold output until the result ends, or the window closes, or (asked for)
  // until the end whatever its size.
  const first = opts.first;
  if (first) {
    held.push(first);
    heldBytes += first.bytes.length;
    count(first);
    await sample();
    const deadline = performance.now() + HOLD_MS;
    while (opts.waitEndOfQuery || (heldBytes < HOLD_BYTES && performance.now() < deadline)) {
      const c = await stream.next();
      if (!c) {
        ended = true;
        break;
      }
      held.push(c);
      heldBytes += c.bytes.length;
      count(c);
      await sample();
    }
  } else {
    ended = true;
  }

  const elapsed = (): number => (performance.now() - started) / 1000;
  const progressHeaders = (): Headers => {
    if (!opts.progressHeader) return {};
    const s = querySummary(rows, bytes, elapsed(), read);
    const { read_rows, read_bytes, total_rows_to_read, elapsed_ns } = s;
    return { 'X-ClickHouse-Progress': JSON.stringify({ read_rows, read_bytes, total_rows_to_read, elapsed_ns }) };
  };
  if (ended) {
    const summary = querySummary(rows, bytes, elapsed(), read);
    opts.onDrained();
    await sendWhole(
      res,
      200,
      Buffer.concat(held.map((c) => c.bytes)),
      { ...opts.headers, ...progressHeaders(), 'X-ClickHouse-Summary': JSON.stringify(summary) },
      encoding,
    );
    return { summary, aborted: res.destroyed && !res.writableFinished };
  }

  const tag = randomBytes(8).toString('hex');
  res.writeHead(200, {
    ...withEncodingHeaders(opts.headers, encoding),
    ...progressHeaders(),
    'X-ClickHouse-Summary': JSON.stringify(querySummary(rows, bytes, elapsed(), read)),
    'X-ClickHouse-Exception-Tag': tag,
  });
  let failure: ClickHouseError | undefined;
  async function* body(): AsyncGenerator<Buffer> {
    for (const c of held) yield c.bytes;
    held.length = 0;
    try {
      for (let c = await stream.next(); c; c = await stream.next()) {
        count(c);
        yield c.bytes;
      }
    } catch (e) {
      failure = fromEngineError(e);
      yield exceptionBlock(tag, failure);
    }
  }
  try {
    await pipeline(chain(Readable.from(body(), { objectMode: false }), encoders(encoding), res), { end: false });
  } catch {
    // The client went away; the caller has already stopped the query.
    stream.release();
    return { summary: querySummary(rows, bytes, elapsed(), read), aborted: true, ...(failure && { error: failure }) };
  }
  opts.onDrained();
  if (failure) {
    // No terminating chunk: every HTTP client then sees a broken response, even
    // one that knows nothing of the exception block and would read it as rows.
    res.socket?.end();
  } else {
    res.end();
  }
  return { summary: querySummary(rows, bytes, elapsed(), read), aborted: false, ...(failure && { error: failure }) };
}
