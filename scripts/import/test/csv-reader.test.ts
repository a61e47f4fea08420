import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { parse } from 'csv-parse';
import { afterAll, describe, expect, it } from 'vitest';
import { openCsv, type CsvEvent, type HeaderSpec } from '../csv-reader.js';
import { EXIT, ImportError } from '../errors.js';
import { writeCsv } from '../generator.js';

// Unit tests of the streaming reader (file → guard → csv-parse): no database.

const dir = mkdtempSync(join(tmpdir(), 'csv-reader-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const file = (content: string | Buffer) => {
  const p = join(dir, `f${++n}.csv`);
  writeFileSync(p, content);
  return p;
};
const abc: HeaderSpec = { known: ['a', 'b', 'c'], required: ['a'] };

async function readAll(content: string | Buffer, spec = abc, maxRecordBytes?: number) {
  const r = await openCsv(file(content), spec, { maxRecordBytes });
  const events: CsvEvent[] = [];
  try {
    const header = await r.header();
    for await (const chunk of r.chunks()) events.push(...chunk);
    return { header, events, stats: r.stats() };
  } finally {
    r.close();
  }
}
/** [line, endLine, kind, values or reason] — compact for assertions. */
const brief = (e: CsvEvent) =>
  e.type === 'record' ? [e.line, e.endLine, e.values.join('|')] : [e.line, e.endLine, 'BROKEN', e.reason];

describe('why a guard: csv-parse alone', () => {
  it('skip_records_with_error silently loses the records after a bad closing quote', async () => {
    const skipped: number[] = [];
    const records: string[][] = [];
    const p = Readable.from(['a,b,c\n1,"ab"c,3\n4,5,6\n7,"x",9\n10,11,12\n']).pipe(
      parse({
        skip_records_with_error: true,
        on_skip: (err) => {
          skipped.push((err as { lines?: number } | undefined)?.lines ?? -1);
        },
      }),
    );
    for await (const r of p) records.push(r);
    // 4 data records in (lines 2–5), 1 out, skips reported for lines 2 and 4: after the bad
    // closing quote the parser stays in quoted mode, and "4,5,6" (line 3) vanishes unreported.
    expect(records).toEqual([['a', 'b', 'c'], ['10', '11', '12']]);
    expect(skipped).toEqual([2, 4]);
  });
});

describe('openCsv: every record exactly once, with its line numbers', () => {
  it('reports quote errors and wrong field counts as broken records and goes on', async () => {
    const { events, stats } = await readAll(
      [
        'a,b,c', //                    1
        '1,2,3', //                    2 ok
        '4,5', //                      3 too few
        '6,7,8,9', //                  4 too many
        '1,"x', //                     5-6 a quoted line break
        'y",3',
        '', //                         7 empty
        '1,a"b,3', //                  8 stray quote
        '1,"ab"c,3', //                9 text after a closing quote
        '9,9,9', //                   10 ok
        '1,"abc,3', //                11 never closed
        '10,11,12', //                12 ok
        '"q""uoted",",",""', //       13 ok
        '13,14,15', //                14 ok, no final newline
      ].join('\n'),
    );
    expect(events.map(brief)).toEqual([
      [2, 2, '1|2|3'],
      [3, 3, 'BROKEN', 'expected 3 fields, found 2'],
      [4, 4, 'BROKEN', 'expected 3 fields, found 4'],
      [5, 6, '1|x\ny|3'],
      [8, 8, 'BROKEN', 'b (field 2): a quote (") inside an unquoted field (quote the whole field and double the quote)'],
      [9, 9, 'BROKEN', 'b (field 2): text after the closing quote of a quoted field ("c")'],
      [10, 10, '9|9|9'],
      [11, 11, 'BROKEN', 'b (field 2): quoted field is never closed'],
      [12, 12, '10|11|12'],
      [13, 13, 'q"uoted|,|'],
      [14, 14, '13|14|15'],
    ]);
    expect(stats).toEqual({ lines: 14, emptyLines: 1 });
    const broken = events.filter((e) => e.type === 'broken');
    expect(broken.map((e) => e.type === 'broken' && (e.values ?? e.raw))).toEqual([['4', '5'], ['6', '7', '8', '9'], '1,a"b,3', '1,"ab"c,3', '1,"abc,3']);
  });

  it('an unclosed quote costs one line, even when later lines hold quotes', async () => {
    const { events } = await readAll('a,b,c\n1,"open,3\n2,"x, y",3\n3,"multi\nline",3\n4,"p",4\n5,"q,5\n6,6,6\n');
    expect(events.map(brief)).toEqual([
      [2, 2, 'BROKEN', 'b (field 2): quoted field is never closed'],
      [3, 3, '2|x, y|3'],
      [4, 5, '3|multi\nline|3'],
      [6, 6, '4|p|4'],
      [7, 7, 'BROKEN', 'b (field 2): quoted field is never closed'],
      [8, 8, '6|6|6'],
    ]);
  });

  it('CRLF (also inside quotes), a BOM and header names are normalised; line numbers stay exact', async () => {
    const { header, events, stats } = await readAll('\uFEFF"A", B ,c\r\n1,"x\r\ny",3\r\n\r\n4,5,6\r\n');
    expect(header.columns).toEqual(['a', 'b', 'c']);
    expect(header.original).toEqual(['A', ' B ', 'c']);
    expect(events.map(brief)).toEqual([
      [2, 3, '1|x\r\ny|3'],
      [5, 5, '4|5|6'],
    ]);
    expect(stats).toEqual({ lines: 5, emptyLines: 1 });
  });

  it('a line that is not UTF-8 is broken; its neighbours are fine', async () => {
    const { events } = await readAll(Buffer.concat([Buffer.from('a,b,c\n1,'), Buffer.from([0xff, 0xfe]), Buffer.from(',3\n4,5,6\n')]));
    expect(events.map(brief)).toEqual([
      [2, 2, 'BROKEN', 'not valid UTF-8'],
      [3, 3, '4|5|6'],
    ]);
  });

  it('memory is bounded: an over-long line is broken, an unclosed quote gives up after maxRecordBytes', async () => {
    const long = 'x'.repeat(5_000);
    const { events } = await readAll(`a,b,c\n1,${long},3\n2,2,2\n3,"${long}\n${long}",3\n4,4,4\n`, abc, 4_096);
    expect(events.map((e) => brief(e).slice(0, 3))).toEqual([
      [2, 2, 'BROKEN'],
      [3, 3, '2|2|2'],
      [4, 4, 'BROKEN'],
      [5, 5, 'BROKEN'],
      [6, 6, '4|4|4'],
    ]);
    expect(events[0]!.type === 'broken' && events[0]!.reason).toBe('line longer than 4096 bytes');
  });

  it('the header is checked: every missing column named, unknown columns refused unless ignored', async () => {
    const spec: HeaderSpec = { known: ['a', 'b', 'c', 'd'], required: ['a', 'b', 'c'] };
    await expect(readAll('x,b,y\n1,2,3\n', spec)).rejects.toThrow(/missing required columns: a, c; unknown columns: x, y/);
    await expect(readAll('a,b,c,a,\n', spec)).rejects.toThrow(/column "a" appears twice \(columns 1 and 4\); column 5 has no name/);
    const ok = await readAll('A,b,c,extra\n1,2,3,4\n', { ...spec, ignoreUnknownColumns: true });
    expect(ok.header).toMatchObject({ ignored: ['extra'], absent: ['d'] });
    expect(ok.events.map(brief)).toEqual([[2, 2, '1|2|3|4']]);
  });

  it('empty file, broken header and header-only file', async () => {
    const err = await readAll('').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ImportError);
    expect((err as ImportError).exitCode).toBe(EXIT.BAD_HEADER);
    await expect(readAll('a,"b\n1,2,3\n')).rejects.toThrow(/line 1 \(the header\) is not valid CSV/);
    expect((await readAll('a,b,c')).events).toEqual([]);
  });

  it('a missing file is an unreadable input (exit code 3)', async () => {
    const err = await openCsv(join(dir, 'nope.csv'), abc).catch((e: unknown) => e);
    expect((err as ImportError).exitCode).toBe(EXIT.INPUT_UNREADABLE);
    expect((err as Error).message).toMatch(/no such file/);
    const dirErr = await openCsv(dir, abc).catch((e: unknown) => e);
    expect((dirErr as ImportError).exitCode).toBe(EXIT.INPUT_UNREADABLE);
  });

  it('streams with backpressure: a consumer that stops reading stops the file being read', async () => {
    const p = join(dir, 'big.csv');
    const { createWriteStream } = await import('node:fs');
    const out = createWriteStream(p);
    await writeCsv({ kind: 'telemetry', rows: 200_000, seed: 3 }, out);
    await new Promise((res) => out.end(res));
    const spec: HeaderSpec = {
      known: ['user_id', 'prosthesis_type', 'muscle_group', 'signal_frequency', 'signal_duration', 'signal_amplitude', 'event_timestamp'],
      required: [],
    };
    const r = await openCsv(p, spec);
    try {
      await r.header();
      const it = r.chunks();
      await it.next();
      await new Promise((res) => setTimeout(res, 200));
      // ~17 MB file: the parser has consumed only a few chunks' worth while we wait.
      expect(r.size).toBeGreaterThan(15_000_000);
      expect(r.bytes()).toBeLessThan(2_000_000);
      await it.return(undefined);
    } finally {
      r.close();
    }
  });
});
