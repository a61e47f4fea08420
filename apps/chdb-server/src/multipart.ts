import { Codes, chError } from './errors.js';

export interface FormPart {
  name: string;
  /** Present for file parts, which ClickHouse treats as external data tables. */
  filename: string | undefined;
  value: Buffer;
}

/** The boundary of a multipart/form-data Content-Type, or undefined for any other type. */
export function multipartBoundary(contentType: string | undefined): string | undefined {
  if (!contentType || !/^multipart\/form-data\b/i.test(contentType)) return undefined;
  const m = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  const boundary = m?.[1] ?? m?.[2];
  if (!boundary) throw chError(Codes.BAD_ARGUMENTS, 'multipart/form-data without a boundary');
  return boundary;
}

function malformed(): Error {
  return chError(Codes.BAD_ARGUMENTS, 'Malformed multipart/form-data body');
}

/**
 * A small RFC 7578 reader: enough for the form fields clickhouse-js sends
 * (`query`, `param_*`) and for spotting file parts so they can be refused.
 */
export function parseMultipart(body: Buffer, boundary: string): FormPart[] {
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: FormPart[] = [];
  let pos = body.indexOf(delimiter);
  if (pos === -1) throw malformed();
  for (;;) {
    pos += delimiter.length;
    if (body[pos] === 0x2d && body[pos + 1] === 0x2d) return parts; // closing "--"
    if (body[pos] === 0x0d && body[pos + 1] === 0x0a) pos += 2;
    else throw malformed();
    const headerEnd = body.indexOf('\r\n\r\n', pos);
    if (headerEnd === -1) throw malformed();
    const headers = body.subarray(pos, headerEnd).toString('utf8');
    const next = body.indexOf(Buffer.from(`\r\n--${boundary}`), headerEnd + 4);
    if (next === -1) throw malformed();
    const disposition = /^content-disposition:(.*)$/im.exec(headers)?.[1] ?? '';
    const name = /\bname="([^"]*)"/i.exec(disposition)?.[1];
    if (name === undefined) throw malformed();
    const filename = /\bfilename="([^"]*)"/i.exec(disposition)?.[1];
    parts.push({ name, filename, value: body.subarray(headerEnd + 4, next) });
    pos = next + 2;
  }
}
