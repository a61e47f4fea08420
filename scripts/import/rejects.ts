import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { stringify, type Stringifier } from 'csv-stringify';
import { EXIT, ImportError } from './errors.js';

export interface RejectRow {
  line: number;
  /** Original values in the file's column order (empty when the line could not be split). */
  values: readonly string[];
  errors: string;
  /** The line as written, when it could not be split into fields (else empty). */
  raw?: string | null;
}

/**
 * The rejects file: the file's own columns (original header names, values as read),
 * then `line`, `errors` and `raw`. Created on the first reject only, written with
 * backpressure. A fixed copy can be re-imported with --ignore-unknown-columns (the
 * three extra columns are then ignored).
 */
export class RejectsWriter {
  #stringifier: Stringifier | null = null;
  #out: WriteStream | null = null;
  #failed: unknown;
  #errored: Promise<unknown> | null = null;
  count = 0;

  constructor(
    readonly path: string,
    readonly columns: readonly string[],
  ) {}

  get opened(): boolean {
    return this.#stringifier !== null;
  }

  /** Creates the file now (even if nothing is rejected): used with an explicit --rejects. */
  open(): void {
    if (this.#stringifier) return;
    const out = createWriteStream(this.path);
    const s = stringify({ header: true, columns: [...this.columns, 'line', 'errors', 'raw'] });
    out.on('error', (err) => (this.#failed ??= err));
    s.on('error', (err) => (this.#failed ??= err));
    s.pipe(out);
    this.#errored = new Promise((resolve) => {
      out.once('error', resolve);
      s.once('error', resolve);
    });
    this.#stringifier = s;
    this.#out = out;
  }

  async write(r: RejectRow): Promise<void> {
    this.open();
    this.#check();
    const cells = this.columns.map((_, i) => r.values[i] ?? '');
    this.count++;
    if (!this.#stringifier!.write([...cells, String(r.line), r.errors, r.raw ?? ''])) {
      await Promise.race([once(this.#stringifier!, 'drain'), this.#errored]);
      this.#check();
    }
  }

  async close(): Promise<void> {
    if (!this.#stringifier) return;
    const done = once(this.#out!, 'close');
    this.#stringifier.end();
    await Promise.race([done, this.#errored]);
    this.#check();
  }

  #check(): void {
    if (this.#failed) {
      const e = this.#failed as Error;
      throw new ImportError(`cannot write the rejects file ${this.path}: ${e.message}`, EXIT.REJECTS_UNWRITABLE, { cause: e });
    }
  }
}
