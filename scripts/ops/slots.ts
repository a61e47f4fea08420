/**
 * Replication-slot check for both pipeline databases (docs/operations.md, "Replication
 * slots"). Read-only: one SELECT per database.
 *
 *   npm run ops:slots                          # table
 *   npm run ops:slots -- --json                # machine output
 *   npm run ops:slots -- --max-retained-mb 256 --slot dbz_crm
 *
 * Exit codes: 0 every slot fine, 1 an alert (inactive, unreserved/lost, retained WAL
 * above the threshold, a --slot that exists nowhere), 2 usage, 3 a database could not
 * be queried. See USAGE in slots-core.ts.
 */
import pg from 'pg';
import { loadDotEnv, loadEndpoints } from '@cdc/config';
import {
  EXIT,
  exitCode,
  formatReport,
  parseOptions,
  SLOTS_SQL,
  toSlot,
  UsageError,
  USAGE,
  type Options,
  type Report,
  type SlotRow,
} from './slots-core.js';

async function readSlots(url: string): Promise<SlotRow[]> {
  const client = new pg.Client({
    connectionString: url,
    connectionTimeoutMillis: 5_000,
    statement_timeout: 10_000,
    application_name: 'ops-slots',
  });
  client.on('error', () => {});
  await client.connect();
  try {
    return (await client.query<SlotRow>(SLOTS_SQL)).rows;
  } finally {
    await client.end().catch(() => {});
  }
}

async function check(opts: Options, urls: string[]): Promise<Report> {
  const report: Report = {
    checkedAt: new Date().toISOString(),
    maxRetainedBytes: opts.maxRetainedBytes,
    slots: [],
    missing: [],
    errors: [],
  };
  const results = await Promise.allSettled(urls.map((u) => readSlots(u)));
  results.forEach((r, i) => {
    const source = new URL(urls[i]!).pathname.replace(/^\//, '') || urls[i]!;
    if (r.status === 'rejected') {
      report.errors.push({ source, error: (r.reason as Error).message || String(r.reason) });
      return;
    }
    for (const row of r.value) {
      if (opts.slots.length > 0 && !opts.slots.includes(row.slot_name)) continue;
      report.slots.push(toSlot(source, row, opts.maxRetainedBytes));
    }
  });
  // A named slot is missing only if every database answered and none has it.
  if (report.errors.length === 0) {
    report.missing = opts.slots.filter((name) => !report.slots.some((s) => s.slot === name));
  }
  return report;
}

async function main(argv: string[]): Promise<number> {
  let opts: Options;
  try {
    opts = parseOptions(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`error: ${err.message}\n\n${USAGE}\n`);
    return EXIT.USAGE;
  }
  if (opts.help) {
    process.stdout.write(`${USAGE}\n`);
    return EXIT.OK;
  }
  loadDotEnv();
  const env = loadEndpoints();
  const report = await check(opts, [env.CRM_DATABASE_URL, env.TELEMETRY_DATABASE_URL]);
  process.stdout.write(`${opts.json ? JSON.stringify(report, null, 2) : formatReport(report)}\n`);
  return exitCode(report);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`error: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(EXIT.UNREACHABLE);
  },
);
