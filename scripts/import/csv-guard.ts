import { isUtf8 } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

/**
 * A byte-level guard in front of csv-parse that keeps structurally broken lines from
 * ever reaching it, so that one bad quote cannot swallow the records after it.
 *
 * Why: csv-parse's `skip_records_with_error` (+ `on_skip`) does skip a record with an
 * invalid closing quote ("ab"c) or an unclosed quote, but it keeps parsing in quoted
 * mode afterwards, so the following lines up to the next quote character vanish into
 * the skipped record without being reported (see test/csv-reader.test.ts, "csv-parse
 * alone"). Nothing may be dropped silently, so this guard:
 *
 *  1. frames records by quote parity: a newline ends a record when the record so far
 *     holds an even number of `"` characters (exactly the RFC 4180 rule, since a quote
 *     inside a quoted field is doubled). Lines without quotes take a fast path;
 *  2. checks the quote structure of every record that has quotes: a quoted field must
 *     be closed and followed by `,` or the end of the line, and an unquoted field must
 *     not contain a quote;
 *  3. diverts a broken record: its FIRST physical line is replaced by a one-field
 *     sentinel line (so csv-parse's line numbers stay the file's line numbers and the
 *     report travels in order, with backpressure, through the parser), and the lines
 *     after it are framed again on their own. An unclosed quote therefore costs one
 *     line, not the rest of the file. A candidate record that grows beyond
 *     `maxRecordBytes` without closing its quote is handled the same way, which also
 *     bounds memory;
 *  4. diverts lines that are not valid UTF-8 and lines longer than `maxRecordBytes`.
 *
 * Every line of the output is a line of the file (or a sentinel standing for one), so
 * the reader numbers records by counting: csv-parse's own `info.lines` is not used, as
 * it counts a CRLF inside a quoted field as two lines. Records spanning several lines
 * (a quoted field with a newline) pass through whole and are listed in `multiLine`.
 * Empty lines pass through (the reader counts them). A UTF-8 BOM is removed.
 */

export interface BrokenLine {
  /** Line number (1-based) in the file. */
  line: number;
  /** The line as text (lossy if not UTF-8), without its line ending, cut at 2,000 chars. */
  raw: string;
  reason: string;
  /** 1-based field position the problem was found in, when known. */
  field?: number;
}

export interface CsvGuardOptions {
  /** Largest record (bytes) the guard frames; longer lines / unclosed quotes are diverted. */
  maxRecordBytes?: number;
}

const NL = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;
const COMMA = 0x2c;
const RAW_MAX = 2_000;

export const DEFAULT_MAX_RECORD_BYTES = 1 << 20;

interface Pending {
  lines: Buffer[];
  start: number;
  quotes: number;
  bytes: number;
}

export class CsvGuard extends Transform {
  readonly maxRecordBytes: number;
  /** Prefix of sentinel cells: a NUL byte and a per-run random token, never real data. */
  readonly sentinel = `\u0000cdc-import-broken-${randomBytes(6).toString('hex')}:`;
  /** Diverted lines not yet taken by the reader (bounded by the streams' buffers). */
  readonly broken = new Map<number, BrokenLine>();
  /** First line → last line of records that span several lines (taken by the reader). */
  readonly multiLine = new Map<number, number>();
  /** Lines seen so far (the next line is `lines + 1`). */
  lines = 0;
  divertedLines = 0;

  #carry: Buffer | null = null;
  #overflow: { line: number; head: Buffer } | null = null;
  #pending: Pending | null = null;
  #first = true;
  /** Fields in the header: a record spanning lines must have as many (else it is an unclosed quote). */
  #headerFields = 0;
  #work: Array<[Buffer, number, boolean | undefined]> = [];
  #running = false;

  constructor(options: CsvGuardOptions = {}) {
    super({ readableHighWaterMark: 1 << 16, writableHighWaterMark: 1 << 16 });
    this.maxRecordBytes = options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
  }

  /** The diverted line a sentinel cell stands for (and forget it), or undefined. */
  claim(cell: string | undefined): BrokenLine | undefined {
    if (cell === undefined || cell.charCodeAt(0) !== 0 || !cell.startsWith(this.sentinel)) return undefined;
    const line = Number(cell.slice(this.sentinel.length));
    const b = this.broken.get(line);
    this.broken.delete(line);
    return b;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    try {
      this.#feed(chunk);
      cb();
    } catch (err) {
      cb(err as Error);
    }
  }

  override _flush(cb: TransformCallback): void {
    try {
      if (this.#overflow) this.#endOverflow();
      else if (this.#carry && this.#carry.length > 0) {
        const last = this.#stripBom(this.#carry);
        this.#carry = null;
        this.#handle(last, ++this.lines, isUtf8(last));
      }
      while (this.#pending) this.#fallback();
      cb();
    } catch (err) {
      cb(err as Error);
    }
  }

  #feed(chunk: Buffer): void {
    let buf = chunk;
    if (this.#overflow) {
      const nl = buf.indexOf(NL);
      if (nl === -1) return; // still inside the over-long line
      this.#endOverflow();
      buf = buf.subarray(nl + 1);
    }
    if (this.#carry) {
      buf = Buffer.concat([this.#carry, buf]);
      this.#carry = null;
    }
    const lastNl = buf.lastIndexOf(NL);
    if (lastNl === -1) return this.#keep(buf);
    this.#region(this.#stripBom(buf.subarray(0, lastNl + 1)));
    if (lastNl + 1 < buf.length) this.#keep(buf.subarray(lastNl + 1));
  }

  #stripBom(b: Buffer): Buffer {
    if (!this.#first) return b;
    this.#first = false;
    return b.length >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf ? b.subarray(3) : b;
  }

  /** An incomplete line waits for the next chunk, unless it is already too long. */
  #keep(b: Buffer): void {
    if (b.length <= this.maxRecordBytes) {
      this.#carry = Buffer.from(b); // a copy: do not pin the whole chunk
      return;
    }
    // Over-long line: resolve any pending record first (it cannot include this line),
    // then drop bytes up to the next newline, keeping the head for the report.
    while (this.#pending) this.#fallback();
    this.#overflow = { line: this.lines + 1, head: Buffer.from(b.subarray(0, RAW_MAX * 4)) };
  }

  #endOverflow(): void {
    const o = this.#overflow!;
    this.#overflow = null;
    this.lines = o.line;
    this.#divert(o.line, o.head, `line longer than ${this.maxRecordBytes} bytes`);
  }

  /** Complete lines (the region ends with a newline). */
  #region(region: Buffer): void {
    if (this.lines === 0) {
      // The header's width, for the multi-line check (a header with an odd number of
      // quotes spans lines: #resolve sets it).
      const first = region.subarray(0, region.indexOf(NL) + 1);
      const c = checkQuotes(first);
      if (!c.problem) this.#headerFields = c.fields;
    }
    const utf8 = isUtf8(region);
    if (!this.#pending && utf8 && region.indexOf(QUOTE) === -1) {
      // Fast path: no quotes, valid UTF-8, no over-long line: every line is a record or an empty line.
      let n = 0;
      let longest = 0;
      for (let prev = -1, p = region.indexOf(NL); p !== -1; prev = p, p = region.indexOf(NL, p + 1)) {
        n++;
        if (p - prev > longest) longest = p - prev;
      }
      if (longest <= this.maxRecordBytes) {
        this.lines += n;
        this.push(region);
        return;
      }
    }
    let runStart = 0;
    let s = 0;
    while (s < region.length) {
      const e = region.indexOf(NL, s);
      const line = region.subarray(s, e + 1);
      const lineNo = ++this.lines;
      const ok = utf8 || isUtf8(line);
      if (!this.#pending && ok && line.length <= this.maxRecordBytes && line.indexOf(QUOTE) === -1) {
        s = e + 1; // plain line: stays in the pass-through run
        continue;
      }
      if (s > runStart) this.push(region.subarray(runStart, s));
      this.#handle(line, lineNo, ok);
      s = e + 1;
      runStart = s;
    }
    if (s > runStart) this.push(region.subarray(runStart, s));
  }

  /** One line that needs attention. Iterative (a work stack), since a fallback replays lines. */
  #handle(line: Buffer, lineNo: number, utf8?: boolean): void {
    this.#work.push([line, lineNo, utf8]);
    this.#drain();
  }

  #drain(): void {
    if (this.#running) return; // the loop below picks up what was pushed
    this.#running = true;
    try {
      while (this.#work.length > 0) {
        const [l, n, u] = this.#work.pop()!;
        this.#step(l, n, u ?? isUtf8(l));
      }
    } finally {
      this.#running = false;
    }
  }

  #step(line: Buffer, lineNo: number, utf8: boolean): void {
    const p = this.#pending;
    if (p) {
      p.lines.push(line);
      p.bytes += line.length;
      p.quotes += countQuotes(line);
      if (p.bytes > this.maxRecordBytes) this.#fallback();
      else if (p.quotes % 2 === 0) this.#resolve();
      return;
    }
    if (line.length > this.maxRecordBytes) return this.#divert(lineNo, line, `line longer than ${this.maxRecordBytes} bytes`);
    if (!utf8) return this.#divert(lineNo, line, 'not valid UTF-8');
    const q = countQuotes(line);
    if (q === 0) return void this.push(line);
    if (q % 2 === 1) {
      this.#pending = { lines: [line], start: lineNo, quotes: q, bytes: line.length };
      return;
    }
    const check = checkQuotes(line);
    if (check.problem) return this.#divert(lineNo, line, check.problem, check.field);
    this.push(line);
  }

  /** The pending record's quotes balance: pass it whole, or fall back. */
  #resolve(): void {
    const p = this.#pending!;
    const rec = Buffer.concat(p.lines);
    const check = isUtf8(rec) ? checkQuotes(rec) : null;
    // Quotes balance, but a quote opened and never closed on its line also balances with
    // the next odd line; what tells them apart is a well-formed record of the right width.
    if (check && !check.problem && (p.start === 1 || check.fields === this.#headerFields)) {
      this.#pending = null;
      if (p.start === 1) this.#headerFields = check.fields;
      this.push(rec);
      this.multiLine.set(p.start, p.start + p.lines.length - 1);
      return;
    }
    this.#fallback();
  }

  /**
   * The pending record is broken (bad quotes once balanced, never balanced within
   * maxRecordBytes, or end of file): report its first line only, with that line's own
   * problem, and frame the lines after it again on their own (work stack, in order).
   */
  #fallback(): void {
    const p = this.#pending!;
    this.#pending = null;
    const first = p.lines[0]!;
    // The first line alone has an odd number of quotes, so it always has a problem of its own.
    const check: Partial<QuoteCheck> = isUtf8(first) ? checkQuotes(first) : { problem: 'not valid UTF-8' };
    this.#divert(p.start, first, check.problem ?? 'quoted field is never closed', check.field);
    for (let i = p.lines.length - 1; i >= 1; i--) this.#work.push([p.lines[i]!, p.start + i, undefined]);
    this.#drain();
  }

  #divert(lineNo: number, line: Buffer, reason: string, field?: number): void {
    if (lineNo === 1) {
      throw new HeaderLineError(`line 1 (the header) is not valid CSV: ${reason}`);
    }
    let raw = line.toString('utf8');
    raw = raw.replace(/\r?\n$/, '');
    if (raw.length > RAW_MAX) raw = `${raw.slice(0, RAW_MAX)}…`;
    this.broken.set(lineNo, { line: lineNo, raw, reason, ...(field ? { field } : {}) });
    this.divertedLines++;
    this.push(Buffer.from(`${this.sentinel}${lineNo}\n`));
  }
}

export class HeaderLineError extends Error {
  override name = 'HeaderLineError';
}

function countQuotes(b: Buffer): number {
  let n = 0;
  for (let p = b.indexOf(QUOTE); p !== -1; p = b.indexOf(QUOTE, p + 1)) n++;
  return n;
}

/**
 * RFC 4180 quote rules for one record (one or more lines, line ending included): the
 * number of fields, or the problem and the 1-based field where it is.
 */
export interface QuoteCheck {
  /** null when the record is well-formed. */
  problem: string | null;
  /** Field (1-based) of the problem; when well-formed, the number of fields. */
  field: number;
  fields: number;
}

export function checkQuotes(b: Buffer): QuoteCheck {
  const n = b.length;
  let i = 0;
  let field = 1;
  for (;;) {
    if (i < n && b[i] === QUOTE) {
      // Quoted field: runs to a quote that is not doubled.
      let j = i + 1;
      for (;;) {
        const q = b.indexOf(QUOTE, j);
        if (q === -1) return { problem: 'quoted field is never closed', field, fields: field };
        if (b[q + 1] === QUOTE) {
          j = q + 2;
          continue;
        }
        i = q + 1;
        break;
      }
      const c = b[i];
      const atEnd = i >= n || c === COMMA || c === NL || (c === CR && (i + 1 >= n || b[i + 1] === NL));
      if (!atEnd) {
        return { problem: `text after the closing quote of a quoted field (${JSON.stringify(String.fromCharCode(c!))})`, field, fields: field };
      }
    } else {
      // Unquoted field: up to the next comma or newline, no quote allowed.
      let j = i;
      while (j < n && b[j] !== COMMA && b[j] !== NL) {
        if (b[j] === QUOTE) return { problem: 'a quote (") inside an unquoted field (quote the whole field and double the quote)', field, fields: field };
        j++;
      }
      i = j;
    }
    if (i >= n) return { problem: null, field, fields: field };
    if (b[i] === COMMA) {
      field++;
      i++;
      continue;
    }
    // End of the record: the line ending, then nothing.
    if (b[i] === CR) i++;
    if (b[i] === NL) i++;
    return { problem: i >= n ? null : 'a line break outside quotes inside the record', field, fields: field };
  }
}
