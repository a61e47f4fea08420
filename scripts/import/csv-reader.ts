import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { pipeline } from 'node:stream';
import { parse, type Options as ParseOptions } from 'csv-parse';
import { CsvGuard, HeaderLineError, type CsvGuardOptions } from './csv-guard.js';
import { EXIT, ImportError } from './errors.js';

/**
 * The streaming CSV reader: file → CsvGuard → csv-parse → chunks of events, in file
 * order. Records are drained from csv-parse synchronously, up to CHUNK at a time, and
 * the next chunk is only read when the consumer asks for it (backpressure: nothing is
 * read ahead beyond the streams' small buffers).
 *
 * Every record of the file comes out exactly once, as `record` or as `broken`:
 *  - quote errors, invalid UTF-8, over-long lines: diverted by the guard (see there);
 *  - a wrong number of fields: csv-parse runs with `relax_column_count`, so such a
 *    record still comes out, in order, and is reported as broken with its fields.
 *    (`skip_records_with_error` is deliberately NOT used: it loses the records after
 *    a bad quote, and its `on_skip` reports arrive out of band.)
 *  - anything else csv-parse throws stops the import (exit 5) naming the line.
 *
 * csv-parse runs without `columns` and `info`: records are arrays (the header is the
 * first one, checked here), and line numbers are counted here, because `info` costs
 * ~40 % of the parser's time and its `lines` counts a CRLF inside quotes twice.
 */

export interface HeaderSpec {
  /** Every column the import understands. */
  known: readonly string[];
  /** Columns that must be present. */
  required: readonly string[];
  /** Unknown columns are dropped (listed in the summary) instead of failing the import. */
  ignoreUnknownColumns?: boolean;
}

export interface Header {
  /** Column names as written in the file. */
  original: string[];
  /** Normalised (trimmed, lower-case) names: the record keys. */
  columns: string[];
  /** Columns not in `known` (only when ignoreUnknownColumns). */
  ignored: string[];
  /** Known optional columns the file does not have (they are left null / derived). */
  absent: string[];
}

export interface RecordEvent {
  type: 'record';
  /** First and last line of the record (they differ when a quoted field holds a newline). */
  line: number;
  endLine: number;
  /** The fields, in the file's column order (as many as the header has). */
  values: string[];
}

export interface BrokenEvent {
  type: 'broken';
  line: number;
  endLine: number;
  /** The fields when the parser could split them (wrong field count), by position. */
  values: string[] | null;
  /** The line's text when the fields could not be split. */
  raw: string | null;
  reason: string;
}

export type CsvEvent = RecordEvent | BrokenEvent;

export interface CsvReader {
  /** Size of the file in bytes (for the progress bar). */
  size: number;
  /** Reads and validates the header line. */
  header(): Promise<Header>;
  /** The events, a chunk (≤ CHUNK events, in order) at a time. */
  chunks(): AsyncGenerator<CsvEvent[]>;
  /** A record's values keyed by column name (known and ignored columns). */
  toRecord(values: readonly string[]): Record<string, string>;
  /** Bytes consumed by the parser so far. */
  bytes(): number;
  /** Lines seen so far and empty lines skipped. */
  stats(): { lines: number; emptyLines: number };
  close(): void;
}

/** Records per chunk handed to the consumer (and csv-parse's readable buffer, in records). */
const CHUNK = 512;

const normalise = (name: string) => name.trim().toLowerCase();

export function checkHeader(original: readonly string[], spec: HeaderSpec): Header {
  const columns = original.map(normalise);
  const problems: string[] = [];
  const seen = new Map<string, number>();
  columns.forEach((c, i) => {
    if (c === '') problems.push(`column ${i + 1} has no name`);
    else if (seen.has(c)) problems.push(`column "${c}" appears twice (columns ${seen.get(c)! + 1} and ${i + 1})`);
    else seen.set(c, i);
  });
  const missing = spec.required.filter((c) => !seen.has(c));
  if (missing.length > 0) problems.push(`missing required column${missing.length > 1 ? 's' : ''}: ${missing.join(', ')}`);
  const unknown = [...seen.keys()].filter((c) => !spec.known.includes(c));
  if (unknown.length > 0 && !spec.ignoreUnknownColumns) {
    problems.push(
      `unknown column${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')} (expected columns: ${spec.known.join(', ')}; ` +
        `pass --ignore-unknown-columns to import without ${unknown.length > 1 ? 'them' : 'it'})`,
    );
  }
  if (problems.length > 0) throw new ImportError(`bad header line: ${problems.join('; ')}`, EXIT.BAD_HEADER);
  return {
    original: [...original],
    columns,
    ignored: spec.ignoreUnknownColumns ? unknown : [],
    absent: spec.known.filter((c) => !seen.has(c)),
  };
}

export async function openCsv(
  file: string,
  spec: HeaderSpec,
  options: CsvGuardOptions & { highWaterMark?: number } = {},
): Promise<CsvReader> {
  // Open first, so a missing/unreadable file fails with a clear error before anything else.
  let size: number;
  try {
    const fh = await open(file, 'r');
    try {
      const st = await fh.stat();
      if (!st.isFile()) throw Object.assign(new Error('not a regular file'), { code: 'EISDIR' });
      size = st.size;
    } finally {
      await fh.close();
    }
  } catch (err) {
    throw new ImportError(`cannot read ${file}: ${describeFsError(err)}`, EXIT.INPUT_UNREADABLE, { cause: err });
  }

  const guard = new CsvGuard(options);
  const parser = parse({
    relax_quotes: false,
    relax_column_count: true,
    skip_empty_lines: false, // counted here, to keep the line numbering exact
    record_delimiter: ['\r\n', '\n'],
    delimiter: ',',
    bom: true,
    encoding: 'utf8',
    readableHighWaterMark: CHUNK,
  } as ParseOptions);
  const source = createReadStream(file, { highWaterMark: options.highWaterMark ?? 1 << 18 });
  let streamError: unknown;
  let ended = false;
  let wake: (() => void) | undefined;
  pipeline(source, guard, parser, (err) => {
    if (err) streamError = err;
    ended = true;
    wake?.();
  });
  const onReadable = () => wake?.();
  parser.on('readable', onReadable);

  let header: Header | undefined;
  let width = 0;
  let next = 0; // line number of the next record
  let emptyLines = 0;
  let lastLine = 0;

  const fail = (err: unknown): ImportError => {
    if (err instanceof ImportError) return err;
    if (err instanceof HeaderLineError) return new ImportError(err.message, EXIT.BAD_HEADER, { cause: err });
    const e = err as NodeJS.ErrnoException;
    if (e.code && /^E[A-Z]+$/.test(e.code)) {
      return new ImportError(`cannot read ${file}: ${describeFsError(e)}`, EXIT.INPUT_UNREADABLE, { cause: err });
    }
    return new ImportError(`the CSV parser stopped after line ${lastLine}: ${e.message}`, EXIT.BAD_CSV, { cause: err });
  };

  function takeSpan(line: number): number {
    const end = guard.multiLine.get(line);
    if (end === undefined) return line;
    guard.multiLine.delete(line);
    return end;
  }

  /** The next record array from csv-parse, waiting for one if need be; null at the end. */
  async function nextArray(): Promise<string[] | null> {
    for (;;) {
      const rec = parser.read() as string[] | null;
      if (rec !== null) return rec;
      if (streamError) throw fail(streamError);
      if (ended || parser.readableEnded) return null;
      await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
    }
  }

  function toEvent(values: string[]): CsvEvent | null {
    const line = next;
    const endLine = takeSpan(line);
    next = endLine + 1;
    lastLine = endLine;
    const first = values[0];
    if (first !== undefined && first.charCodeAt(0) === 0) {
      const broken = guard.claim(first);
      if (broken) {
        if (broken.line !== line) throw new Error(`internal: line numbering out of step (${broken.line} ≠ ${line})`);
        return { type: 'broken', line, endLine, values: null, raw: broken.raw, reason: quoteReason(broken.reason, broken.field, header!) };
      }
    }
    if (values.length !== width) {
      if (values.length === 1 && first === '') {
        emptyLines++; // an empty line (or a lone ""), not a record
        return null;
      }
      return { type: 'broken', line, endLine, values, raw: null, reason: `expected ${width} fields, found ${values.length}` };
    }
    return { type: 'record', line, endLine, values };
  }

  async function readHeader(): Promise<Header> {
    if (header) return header;
    let names: string[] | null;
    try {
      names = await nextArray();
    } catch (err) {
      throw fail(err);
    }
    if (names === null) throw new ImportError(`${file} is empty: no header line`, EXIT.BAD_HEADER);
    header = checkHeader(names, spec);
    width = names.length;
    next = takeSpan(1) + 1; // the header may span lines too
    lastLine = next - 1;
    return header;
  }

  async function* chunks(): AsyncGenerator<CsvEvent[]> {
    await readHeader();
    try {
      for (;;) {
        const first = await nextArray();
        if (first === null) break;
        const out: CsvEvent[] = [];
        let rec: string[] | null = first;
        do {
          const ev = toEvent(rec);
          if (ev) out.push(ev);
        } while (out.length < CHUNK && (rec = parser.read() as string[] | null) !== null);
        if (out.length > 0) yield out;
      }
    } catch (err) {
      throw fail(err);
    }
    if (streamError) throw fail(streamError);
  }

  return {
    size,
    header: readHeader,
    chunks,
    toRecord(values) {
      const rec: Record<string, string> = {};
      const cols = header!.columns;
      for (let i = 0; i < cols.length; i++) rec[cols[i]!] = values[i]!;
      return rec;
    },
    bytes: () => parser.info.bytes,
    stats: () => ({ lines: guard.lines, emptyLines }),
    close() {
      parser.off('readable', onReadable);
      source.destroy();
      guard.destroy();
      parser.destroy();
    },
  };
}

function quoteReason(reason: string, field: number | undefined, header: Header): string {
  if (!field) return reason;
  const name = header.original[field - 1];
  return name !== undefined ? `${header.columns[field - 1]} (field ${field}): ${reason}` : `field ${field}: ${reason}`;
}

export function describeFsError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  switch (e.code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory, not a file';
    default:
      return e.message ?? String(err);
  }
}
