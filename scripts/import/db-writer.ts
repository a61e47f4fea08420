import type pg from 'pg';
import { classifyDbError } from '@cdc/db';
import type { KindSpec } from './kinds.js';

export interface BatchRow<T> {
  line: number;
  value: T;
}

export interface BatchOutcome {
  loaded: number;
  /** Lines whose key was already in the table (or earlier in the file). */
  duplicateLines: number[];
  /** Rows the database refused although the schema accepted them (e.g. year 0000). */
  rejected: { line: number; reason: string }[];
}

/** SQLSTATE classes of errors caused by a row's data, not by the database or the connection. */
const DATA_ERROR = /^(22|23)/;

export function isDataError(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && DATA_ERROR.test(code);
}

/**
 * Writes one batch as ONE statement (its own transaction: a batch is all in or all
 * out): INSERT … SELECT FROM unnest(column arrays) ON CONFLICT (key) DO NOTHING
 * RETURNING key. Returned keys are the loaded rows; the others were already there
 * (or repeated within the batch, where the first occurrence wins) and are duplicates.
 *
 * If the statement fails because of a row's data (SQLSTATE 22xxx/23xxx: a value the
 * schema allows but PostgreSQL refuses, such as the year 0000), the batch is split in
 * halves until the guilty rows are alone; only they are rejected, with the database's
 * message. Any other error is thrown (the caller names the batch and its lines).
 */
export async function writeBatch<T>(client: pg.ClientBase, spec: KindSpec<T>, rows: readonly BatchRow<T>[]): Promise<BatchOutcome> {
  const inserted = new Set<string>();
  const ok: BatchRow<T>[] = [];
  const rejected: BatchOutcome['rejected'] = [];
  await insertOrBisect(client, spec, rows, inserted, ok, rejected);
  rejected.sort((a, b) => a.line - b.line);
  return sortOut(spec, ok, inserted, rejected);
}

/**
 * The whole slice in one statement; on a data error, each half on its own, down to
 * the guilty rows: k bad rows in n cost about 2·k·log2(n) statements, not n.
 */
async function insertOrBisect<T>(
  client: pg.ClientBase,
  spec: KindSpec<T>,
  rows: readonly BatchRow<T>[],
  inserted: Set<string>,
  ok: BatchRow<T>[],
  rejected: BatchOutcome['rejected'],
): Promise<void> {
  if (rows.length === 0) return;
  try {
    for (const k of await insert(client, spec, rows.map((r) => r.value))) inserted.add(k);
    for (const r of rows) ok.push(r);
    return;
  } catch (err) {
    if (!isDataError(err)) throw err;
    if (rows.length === 1) {
      rejected.push({ line: rows[0]!.line, reason: `database: ${(err as Error).message}` });
      return;
    }
  }
  const mid = rows.length >> 1;
  await insertOrBisect(client, spec, rows.slice(0, mid), inserted, ok, rejected);
  await insertOrBisect(client, spec, rows.slice(mid), inserted, ok, rejected);
}

async function insert<T>(client: pg.ClientBase, spec: KindSpec<T>, values: readonly T[]): Promise<Set<string>> {
  // A named statement is parsed and planned once per connection.
  const res = await client.query<{ k: string }>({ name: `cdc-import-${spec.kind}-v1`, text: spec.sql, values: spec.toParams(values) });
  return new Set(res.rows.map((r) => r.k));
}

function sortOut<T>(spec: KindSpec<T>, rows: readonly BatchRow<T>[], inserted: Set<string>, rejected: BatchOutcome['rejected']): BatchOutcome {
  let loaded = 0;
  const duplicateLines: number[] = [];
  for (const r of rows) {
    // delete(): the first row with a returned key claims it; a repeat is a duplicate.
    if (inserted.delete(spec.key(r.value))) loaded++;
    else duplicateLines.push(r.line);
  }
  return { loaded, duplicateLines, rejected };
}

/** "unavailable (ECONNREFUSED)" — a short tag for messages. */
export function describeDbError(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown };
  const kind = classifyDbError(err)?.kind;
  const code = typeof e.code === 'string' ? e.code : undefined;
  const tag = [kind, code].filter(Boolean).join(', ');
  return `${String(e.message ?? err)}${tag ? ` [${tag}]` : ''}`;
}
