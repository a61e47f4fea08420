/**
 * Exit codes of the import and generate commands. 0 means "the file was processed",
 * even when some rows were rejected (they are in the rejects file); everything else
 * means the command stopped early or never started.
 */
export const EXIT = {
  OK: 0,
  /** A bug or an unexpected failure (stack trace printed). */
  INTERNAL: 1,
  /** Bad command line (unknown option, missing file argument, bad --batch). */
  USAGE: 2,
  /** The input file cannot be opened or read (missing, a directory, no permission, I/O error). */
  INPUT_UNREADABLE: 3,
  /** The header line is unusable: empty file, missing required columns, unknown or duplicate columns. */
  BAD_HEADER: 4,
  /** The CSV parser stopped on something it cannot skip (reported with its line). */
  BAD_CSV: 5,
  /** The database is unreachable or a batch failed for a non-data reason (batch and lines named). */
  DATABASE: 6,
  /** The rejects file cannot be written. */
  REJECTS_UNWRITABLE: 7,
  /** Interrupted (SIGINT/SIGTERM): committed batches stay, a re-run completes the import. */
  INTERRUPTED: 130,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export class ImportError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ImportError';
  }
}
