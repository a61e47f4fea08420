import { relative } from 'node:path';
import type { ImportResult } from './import.js';

const n = (x: number) => x.toLocaleString('en-US');
const lines = (ls: readonly number[], total: number) =>
  ls.length === 0 ? '' : `  (line${total > 1 ? 's' : ''} ${ls.join(', ')}${total > ls.length ? ', …' : ''})`;
const shown = (p: string) => (p.startsWith('/') && !relative(process.cwd(), p).startsWith('..') ? relative(process.cwd(), p) : p);

/** The human summary printed at the end (stdout). */
export function formatSummary(r: ImportResult): string {
  const w = Math.max(n(r.records).length, 1);
  const pad = (x: number) => n(x).padStart(w);
  const out = [
    `${r.kind} import of ${shown(r.file)}${r.dryRun ? ' (dry run: nothing written)' : ''}${r.interrupted ? ' — INTERRUPTED' : ''}`,
    `  ${r.dryRun ? 'valid    ' : 'loaded   '} ${pad(r.loaded)}`,
    `  duplicate ${pad(r.duplicate)}${lines(r.duplicateLines, r.duplicate)}`,
    `  rejected  ${pad(r.rejected)}${lines(r.rejectedLines, r.rejected)}`,
  ];
  if (r.rejectsFile) out.push(`            rejects file: ${shown(r.rejectsFile)}`);
  out.push(
    `  total     ${pad(r.records)} records (${n(r.lines)} lines: 1 header${r.emptyLines ? `, ${n(r.emptyLines)} empty` : ''}${
      r.lines - 1 - r.emptyLines !== r.records ? `, quoted line breaks` : ''
    })`,
    `  time      ${r.seconds.toFixed(2)} s, ${n(Math.round(r.recordsPerSecond))} records/s, ${n(r.batches)} batch${r.batches === 1 ? '' : 'es'}`,
  );
  if (r.header.ignored.length) out.push(`  note: unknown columns ignored: ${r.header.ignored.join(', ')}`);
  if (r.header.absent.length) {
    const what = r.kind === 'telemetry' && r.header.absent.includes('event_uuid') ? ' (event_uuid derived from the content)' : '';
    out.push(`  note: optional columns not in the file: ${r.header.absent.join(', ')}${what}`);
  }
  if (r.interrupted) {
    out.push(`  stopped after line ${r.committedThroughLine}; everything before is committed. Run the same command again to finish.`);
  }
  return out.join('\n');
}
