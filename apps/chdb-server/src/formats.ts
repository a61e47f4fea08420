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
