const binary = new RegExp(
  '^(Parquet|Arrow|ArrowStream|ORC|Avro|Native|RowBinary.*|Protobuf.*|CapnProto|MsgPack|' +
    'BSONEachRow|Npy|Buffers)$',
  'i',
);

export function isBinaryFormat(format: string | undefined): boolean {
  return format !== undefined && binary.test(format);
}

/** Content-Type for an output format, following what a ClickHouse server sends. */
export function contentTypeFor(format: string): string {
  if (/^(JSON|NDJSON)/i.test(format)) return 'application/json; charset=UTF-8';
  if (/^(TabSeparated|TSV)/i.test(format)) return 'text/tab-separated-values; charset=UTF-8';
  if (/^CSVWithNames/i.test(format)) return 'text/csv; charset=UTF-8; header=present';
  if (/^CSV/i.test(format)) return 'text/csv; charset=UTF-8; header=absent';
  if (/^XML$/i.test(format)) return 'application/xml; charset=UTF-8';
  if (binary.test(format)) return 'application/octet-stream';
  return 'text/plain; charset=UTF-8';
}

/**
 * How a format's output can leave the engine. chDB's streaming reader hands
 * over each block as a complete, stand-alone output in the format: that is the
 * right byte stream for plain row formats, repeats the header of the
 * …WithNames formats in every block, and makes a separate document (JSON, XML,
 * Pretty, Parquet, …) of every block. Checked against the buffered output of the
 * same query for every format (chDB 26.7).
 */
export type OutputMode = 'stream' | 'strip-header' | 'whole';

const STREAMABLE = new Set(
  [
    'TabSeparated', 'TSV', 'TabSeparatedRaw', 'TSVRaw', 'Raw', 'CSV', 'JSONEachRow', 'JSONLines', 'NDJSON',
    'JSONCompactEachRow', 'JSONStringsEachRow', 'JSONCompactStringsEachRow', 'RowBinary', 'Native',
    'MsgPack', 'BSONEachRow', 'LineAsString', 'RawBLOB', 'TSKV', 'Null',
  ].map((f) => f.toLowerCase()),
);

/** Row formats that start with a header of names (and types) and then are plain rows. */
const HEADER = /^(TabSeparated|TSV|TabSeparatedRaw|TSVRaw|CSV|JSONCompactEachRow|JSONCompactStringsEachRow|RowBinary)(WithNames|WithNamesAndTypes)$/i;

export function outputMode(format: string): OutputMode {
  if (STREAMABLE.has(format.toLowerCase())) return 'stream';
  if (HEADER.test(format)) return 'strip-header';
  return 'whole';
}

function readVarint(buf: Buffer, at: number): [value: number, next: number] {
  let value = 0;
  let shift = 0;
  let i = at;
  for (;;) {
    const b = buf[i++];
    if (b === undefined) throw new Error('truncated header');
    value += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) return [value, i];
    shift += 7;
  }
}

/**
 * The byte length of the header at the start of `chunk` (the first block's
 * output), for a format outputMode() calls 'strip-header'.
 */
export function headerLength(format: string, chunk: Buffer): number {
  const m = HEADER.exec(format);
  if (!m) throw new Error(`${format} has no header`);
  const lines = m[2]?.toLowerCase() === 'withnamesandtypes' ? 2 : 1;
  if (m[1]?.toLowerCase() === 'rowbinary') {
    const [columns, start] = readVarint(chunk, 0);
    let at = start;
    for (let i = 0; i < columns * lines; i++) {
      const [len, next] = readVarint(chunk, at);
      at = next + len;
    }
    if (at > chunk.length) throw new Error('truncated header');
    return at;
  }
  // Text headers: whole lines; CSV names may hold a newline inside quotes.
  const csv = m[1]?.toLowerCase() === 'csv';
  let quoted = false;
  let seen = 0;
  for (let i = 0; i < chunk.length; i++) {
    const c = chunk[i];
    if (csv && c === 0x22) quoted = !quoted;
    else if (c === 0x0a && !quoted && ++seen === lines) return i + 1;
  }
  throw new Error('truncated header');
}
