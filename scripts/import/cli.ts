import { basename, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { endpointsSchema, loadDotEnv, parseEnv } from '@cdc/config';
import { EXIT, ImportError } from './errors.js';
import { DEFAULT_BATCH_SIZE, MAX_BATCH_SIZE, runImport, type ImportResult } from './import.js';
import { KINDS, type Kind } from './kinds.js';
import { noProgress, progressBar } from './progress.js';
import { formatSummary } from './summary.js';

const USAGE = `usage: tsx scripts/import/cli.ts <users|telemetry> <file.csv> [options]

  users      crm.csv → crm_db.users             (key: e-mail, lower-cased)
  telemetry  signal_samples.csv → telemetry_db.telemetry_events (key: event_uuid,
             derived from the row's content when the column or the value is empty)

options:
  --rejects <file>          rejects CSV: the row's fields + line + errors (+ raw).
                            Default <file.csv>.rejects.csv, written only if a row is rejected.
  --batch <n>               rows per INSERT / transaction (default ${DEFAULT_BATCH_SIZE}, max ${MAX_BATCH_SIZE})
  --ignore-unknown-columns  import a file with extra columns (ignored, listed in the summary);
                            without it an unknown column refuses the file (a typo must not lose data)
  --dry-run                 read and validate only; nothing is written to the database
  --quiet                   no progress bar (there is none anyway when stderr is not a terminal)
  --json                    print the summary as JSON
  -h, --help

Database: CRM_DATABASE_URL / TELEMETRY_DATABASE_URL (environment or .env; default: the native stack).
Exit codes: 0 processed (even with rejects), 2 usage, 3 file unreadable, 4 bad header,
            5 CSV parser stopped, 6 database failure, 7 rejects file unwritable, 130 interrupted.`;

async function main(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        rejects: { type: 'string' },
        batch: { type: 'string' },
        'ignore-unknown-columns': { type: 'boolean' },
        'dry-run': { type: 'boolean' },
        quiet: { type: 'boolean' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    return usage((err as Error).message);
  }
  const { values: o, positionals } = args;
  if (o.help) {
    console.log(USAGE);
    return EXIT.OK;
  }
  const [kind, file, ...extra] = positionals;
  if (!kind || !KINDS.includes(kind as Kind)) return usage(kind ? `unknown kind "${kind}"` : 'missing the kind (users or telemetry)');
  if (!file) return usage('missing the CSV file');
  if (extra.length > 0) return usage(`unexpected argument: ${extra.join(' ')}`);
  let batchSize = DEFAULT_BATCH_SIZE;
  if (o.batch !== undefined) {
    batchSize = /^\d+$/.test(o.batch) ? Number(o.batch) : NaN;
    if (!(batchSize >= 1 && batchSize <= MAX_BATCH_SIZE)) return usage(`--batch must be an integer from 1 to ${MAX_BATCH_SIZE}, got "${o.batch}"`);
  }

  loadDotEnv();
  const env = parseEnv('import', endpointsSchema.pick({ CRM_DATABASE_URL: true, TELEMETRY_DATABASE_URL: true }));
  const poolConfig = {
    max: 2,
    connectionTimeoutMillis: 5_000,
    query_timeout: 120_000,
    application_name: `cdc-import ${kind} ${basename(file)}`.slice(0, 63),
  };
  const db = o['dry-run']
    ? undefined
    : kind === 'users'
      ? (await import('@cdc/db/crm')).createCrmDb(env.CRM_DATABASE_URL, poolConfig)
      : (await import('@cdc/db/telemetry')).createTelemetryDb(env.TELEMETRY_DATABASE_URL, poolConfig);
  db?.pool.on('error', () => {}); // idle-client errors: the next query reports them

  const controller = new AbortController();
  const onSignal = () => {
    if (controller.signal.aborted) process.exit(EXIT.INTERRUPTED); // second Ctrl-C: now
    controller.abort();
    process.stderr.write('\ninterrupted: finishing the batch in hand (Ctrl-C again to quit at once)\n');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const showBar = !o.quiet && process.stderr.isTTY === true;
  let result: ImportResult;
  try {
    result = await runImport({
      kind: kind as Kind,
      file: resolve(file),
      rejectsFile: o.rejects ? resolve(o.rejects) : undefined,
      batchSize,
      ignoreUnknownColumns: o['ignore-unknown-columns'] ?? false,
      dryRun: o['dry-run'] ?? false,
      pool: db?.pool,
      progress: showBar ? progressBar(process.stderr, kind) : noProgress,
      signal: controller.signal,
    });
  } catch (err) {
    if (err instanceof ImportError) {
      process.stderr.write(`error: ${err.message}\n`);
      return err.exitCode;
    }
    throw err;
  } finally {
    await db?.close().catch(() => {});
  }
  console.log(o.json ? JSON.stringify(result, null, 2) : formatSummary(result));
  return result.interrupted ? EXIT.INTERRUPTED : EXIT.OK;
}

function usage(problem: string): number {
  process.stderr.write(`error: ${problem}\n\n${USAGE}\n`);
  return EXIT.USAGE;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`internal error: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exitCode = EXIT.INTERNAL;
  },
);
