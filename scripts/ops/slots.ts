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
import { loadDotEnv, loadEndpoints } from '@cdc/config';
import { checkSlots, urlSlotSource } from '@cdc/db/slots';
import {
  EXIT,
  exitCode,
  formatReport,
  parseOptions,
  UsageError,
  USAGE,
  type Options,
} from './slots-core.js';

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
  const report = await checkSlots(opts, [urlSlotSource(env.CRM_DATABASE_URL), urlSlotSource(env.TELEMETRY_DATABASE_URL)]);
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
