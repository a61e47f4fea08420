import type pg from 'pg';
import { openCsv, type Header } from './csv-reader.js';
import { describeDbError, writeBatch, type BatchOutcome } from './db-writer.js';
import { EXIT, ImportError } from './errors.js';
import { formatIssues, specFor, validateRow, type Kind, type KindSpec } from './kinds.js';
import { noProgress, type Progress } from './progress.js';
import { RejectsWriter, type RejectRow } from './rejects.js';

export const DEFAULT_BATCH_SIZE = 5_000;
export const MAX_BATCH_SIZE = 50_000;

export interface ImportOptions {
  kind: Kind;
  file: string;
  /** Rejects CSV. Default `<file>.rejects.csv`, created only when a row is rejected; an explicit path is always (re)written. */
  rejectsFile?: string;
  /** Records per batch (one INSERT, one transaction). Default 5,000. */
  batchSize?: number;
  /** Accept (and ignore) columns the import does not know instead of refusing the file. */
  ignoreUnknownColumns?: boolean;
  /** Validate only: nothing is written to the database. */
  dryRun?: boolean;
  /** The database (crm_db for users, telemetry_db for telemetry); required unless dryRun. */
  pool?: pg.Pool;
  progress?: Progress;
  /** Abort (SIGINT): stop reading, finish the batches in hand, report. */
  signal?: AbortSignal;
  /** How many line numbers the result lists (rejected, duplicate). Default 10. */
  listLines?: number;
  /** Guard limit for one record (bytes). */
  maxRecordBytes?: number;
}

export interface ImportResult {
  kind: Kind;
  file: string;
  dryRun: boolean;
  /** Stopped by the signal before the end of the file. */
  interrupted: boolean;
  /** Rows inserted (dry run: rows that passed validation). */
  loaded: number;
  /** Rows whose key (e-mail / event_uuid) was already in the table or earlier in the file. */
  duplicate: number;
  /** Records in the rejects file. */
  rejected: number;
  /** Data records read (loaded + duplicate + rejected). */
  records: number;
  /** Physical lines read, header included. */
  lines: number;
  emptyLines: number;
  /** First `listLines` line numbers. */
  rejectedLines: number[];
  duplicateLines: number[];
  rejectsFile: string | null;
  batches: number;
  /** Last line whose batch is committed. */
  committedThroughLine: number;
  seconds: number;
  recordsPerSecond: number;
  header: Header;
}

interface Batch<T> {
  no: number;
  firstLine: number;
  lastLine: number;
  rows: { line: number; value: T; values: string[] }[];
  /** Rejected by the reader or the validation (line order). */
  rejects: RejectRow[];
}

export async function runImport(options: ImportOptions): Promise<ImportResult> {
  const spec = specFor(options.kind) as KindSpec<unknown>;
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_BATCH_SIZE) {
    throw new ImportError(`batch size must be an integer from 1 to ${MAX_BATCH_SIZE}, got ${batchSize}`, EXIT.USAGE);
  }
  const dryRun = options.dryRun ?? false;
  if (!dryRun && !options.pool) throw new Error('runImport: a pool is required unless dryRun');
  const listLines = options.listLines ?? 10;
  const progress = options.progress ?? noProgress;
  const t0 = performance.now();

  const reader = await openCsv(
    options.file,
    { known: spec.columns, required: spec.required, ignoreUnknownColumns: options.ignoreUnknownColumns ?? false },
    { maxRecordBytes: options.maxRecordBytes },
  );
  let client: pg.PoolClient | undefined;
  let rejects: RejectsWriter | undefined;
  const r = {
    loaded: 0,
    duplicate: 0,
    rejected: 0,
    records: 0,
    rejectedLines: [] as number[],
    duplicateLines: [] as number[],
    batches: 0,
    committedThroughLine: 1,
  };
  // One batch is written while the next is read and validated; never more.
  let inflight: Promise<void> | null = null;
  try {
    // A bad header fails here, before the database is touched.
    const header = await reader.header();
    if (!dryRun) {
      try {
        client = await options.pool!.connect();
      } catch (err) {
        throw new ImportError(`cannot connect to the database: ${describeDbError(err)}; nothing was written`, EXIT.DATABASE, { cause: err });
      }
      client.on('error', () => {}); // a dropped connection surfaces as the failing query's error
    }
    rejects = new RejectsWriter(options.rejectsFile ?? `${options.file}.rejects.csv`, header.original);
    if (options.rejectsFile) rejects.open();


    const settle = async (b: Batch<unknown>): Promise<void> => {
      let outcome: BatchOutcome;
      if (dryRun) outcome = { loaded: b.rows.length, duplicateLines: [], rejected: [] };
      else {
        try {
          outcome = await writeBatch(client!, spec, b.rows);
        } catch (err) {
          const range = b.rows.length > 0 ? `lines ${b.firstLine}–${b.lastLine}, ${b.rows.length} rows` : `lines ${b.firstLine}–${b.lastLine}`;
          const committed =
            b.no === 1
              ? 'Nothing was committed.'
              : `Batch${b.no > 2 ? `es 1–${b.no - 1}` : ' 1'} (through line ${r.committedThroughLine}, ${r.loaded} rows loaded) ` +
                `${b.no > 2 ? 'are' : 'is'} committed and stay${b.no > 2 ? '' : 's'}.`;
          throw new ImportError(
            `database error while writing batch ${b.no} (${range}): ${describeDbError(err)}\n` +
              `${committed} Re-running the same command is safe: rows already loaded count as duplicates.`,
            EXIT.DATABASE,
            { cause: err },
          );
        }
      }
      r.batches++;
      r.loaded += outcome.loaded;
      r.duplicate += outcome.duplicateLines.length;
      for (const l of outcome.duplicateLines) if (r.duplicateLines.length < listLines) r.duplicateLines.push(l);
      // Rows refused by the database join the batch's other rejects, in line order.
      let all = b.rejects;
      if (outcome.rejected.length > 0) {
        const byLine = new Map(b.rows.map((row) => [row.line, row.values]));
        all = [...b.rejects, ...outcome.rejected.map((x) => ({ line: x.line, values: byLine.get(x.line) ?? [], errors: x.reason }))];
        all.sort((x, y) => x.line - y.line);
      }
      for (const rej of all) {
        await rejects!.write(rej);
        r.rejected++;
        if (r.rejectedLines.length < listLines) r.rejectedLines.push(rej.line);
      }
      r.committedThroughLine = b.lastLine;
    };

    let failure: unknown;
    const hand = async (b: Batch<unknown>) => {
      if (inflight) await inflight;
      if (failure) throw failure;
      inflight = settle(b).catch((err) => {
        failure ??= err;
      });
    };
    const newBatch = (no: number): Batch<unknown> => ({ no, firstLine: 0, lastLine: 0, rows: [], rejects: [] });
    let batch = newBatch(1);
    let interrupted = false;
    progress.start(reader.size);

    reading: for await (const chunk of reader.chunks()) {
      for (const ev of chunk) {
        if (options.signal?.aborted) {
          interrupted = true;
          break reading;
        }
        r.records++;
        if (batch.firstLine === 0) batch.firstLine = ev.line;
        batch.lastLine = ev.endLine;
        const span = ev.endLine > ev.line ? ` (lines ${ev.line}–${ev.endLine})` : '';
        if (ev.type === 'broken') {
          batch.rejects.push({ line: ev.line, values: ev.values ?? [], errors: `malformed CSV${span}: ${ev.reason}`, raw: ev.raw });
        } else {
          const verdict = validateRow(spec, reader.toRecord(ev.values));
          if (verdict.ok) batch.rows.push({ line: ev.line, value: verdict.value, values: ev.values });
          else batch.rejects.push({ line: ev.line, values: ev.values, errors: formatIssues(verdict.issues) + span });
        }
        if (batch.rows.length + batch.rejects.length >= batchSize) {
          await hand(batch);
          batch = newBatch(batch.no + 1);
        }
      }
      progress.update(reader.bytes(), r);
    }
    if (batch.rows.length + batch.rejects.length > 0) await hand(batch);
    if (inflight) await inflight;
    if (failure) throw failure;
    await rejects.close();
    progress.update(reader.size, r);
    progress.stop();

    const seconds = (performance.now() - t0) / 1000;
    const stats = reader.stats();
    return {
      kind: options.kind,
      file: options.file,
      dryRun,
      interrupted,
      loaded: r.loaded,
      duplicate: r.duplicate,
      rejected: r.rejected,
      records: r.records,
      lines: stats.lines,
      emptyLines: stats.emptyLines,
      rejectedLines: r.rejectedLines,
      duplicateLines: r.duplicateLines,
      rejectsFile: rejects.opened ? rejects.path : null,
      batches: r.batches,
      committedThroughLine: r.committedThroughLine,
      seconds,
      recordsPerSecond: r.records / Math.max(seconds, 1e-6),
      header,
    };
  } catch (err) {
    progress.stop();
    await inflight; // never rejects (failures are caught into `failure`)
    await rejects?.close().catch(() => {});
    if (err instanceof ImportError && err.exitCode !== EXIT.DATABASE && r.batches > 0) {
      // Stopped by the file mid-way: say what is already in the database.
      err.message +=
        `\nBefore that, batches 1–${r.batches} (through line ${r.committedThroughLine}, ${r.loaded} rows loaded) were committed and stay; ` +
        `re-running after a fix is safe: rows already loaded count as duplicates.`;
    }
    throw err;
  } finally {
    reader.close();
    client?.release(true); // not back into the pool: its prepared statements die with it
  }
}
