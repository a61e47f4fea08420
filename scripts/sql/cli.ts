/**
 * Runs one read-only SQL query against CLICKHOUSE_URL and prints the result.
 *
 *   npm run sql -- "SELECT country, count() FROM default.users FINAL GROUP BY country"
 *   npm run sql -- "$(cat clickhouse/cookbook/02_active_users_by_country_7d.sql)" --format csv
 *
 * Exit codes: 0 ok, 1 ClickHouse refused or failed the query, 2 usage error.
 * The result goes to stdout; the row count (and whether --max-rows cut it) to stderr,
 * so `--format json|csv` output can be piped as it is.
 */
import { ClickHouseLogLevel, createClient } from '@clickhouse/client';
import { loadDotEnv, loadEndpoints } from '@cdc/config';
import {
  DEFAULT_LIMITS,
  FORMATS,
  type OutputFormat,
  QueryRejectedError,
  formatResult,
  runReadOnlyQuery,
  summaryLine,
  validateLimits,
} from '@cdc/clickhouse';

const USAGE = `usage: tsx scripts/sql/cli.ts "<query>" [--format table|json|csv] [--max-rows N] [--timeout-s S]
  --format     output format (default table)
  --max-rows   rows to print at most; more are cut off and reported (default ${DEFAULT_LIMITS.maxRows})
  --timeout-s  seconds ClickHouse may spend on the query (default ${DEFAULT_LIMITS.timeoutS})
The query runs with readonly=1: SELECT, SHOW, DESCRIBE, EXPLAIN; nothing that writes.`;

function usageError(message: string): never {
  console.error(`✘ ${message}\n${USAGE}`);
  process.exit(2);
}

function numberOption(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) usageError(`--${name} expects a number, got '${value}'`);
  return n;
}

/**
 * A hand-rolled parser rather than util.parseArgs: a query usually starts with a
 * `-- question` comment, which parseArgs takes for an unknown option. Only the three
 * options below are options; every other argument is the query.
 */
function parseArgv(argv: string[]): { values: Record<string, string>; help: boolean; positionals: string[] } {
  const names = new Set(['format', 'max-rows', 'timeout-s']);
  const values: Record<string, string> = {};
  const positionals: string[] = [];
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const m = /^--([a-z-]+)(?:=(.*))?$/s.exec(arg);
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    } else if (arg === '-h' || arg === '--help') {
      help = true;
    } else if (m && names.has(m[1]!)) {
      const value = m[2] ?? argv[++i];
      if (value === undefined) usageError(`--${m[1]} needs a value`);
      values[m[1]!] = value;
    } else if (m && !/\s/.test(arg)) {
      usageError(`unknown option ${arg}`);
    } else {
      positionals.push(arg);
    }
  }
  return { values, help, positionals };
}

const args = parseArgv(process.argv.slice(2));
if (args.help) {
  console.log(USAGE);
  process.exit(0);
}
if (args.positionals.length !== 1) usageError(`expected exactly one query argument, got ${args.positionals.length}`);
const format = (args.values.format ?? 'table') as OutputFormat;
if (!FORMATS.includes(format)) usageError(`--format must be one of ${FORMATS.join(', ')}, got '${format}'`);
let limits: ReturnType<typeof validateLimits>;
try {
  limits = validateLimits({
    maxRows: numberOption('max-rows', args.values['max-rows']),
    timeoutS: numberOption('timeout-s', args.values['timeout-s']),
  });
} catch (err) {
  usageError((err as Error).message);
}

loadDotEnv();
const env = loadEndpoints();
const client = createClient({
  url: env.CLICKHOUSE_URL,
  // The analyst user: read-only and bounded on the server too (clickhouse/users.yaml).
  username: env.CLICKHOUSE_ANALYST_USER,
  password: env.CLICKHOUSE_ANALYST_PASSWORD,
  // The server enforces the timeout; the HTTP one only covers a server that stops answering.
  request_timeout: (limits.timeoutS + 30) * 1000,
  // The client logs every failed query itself; the one error message below is enough.
  log: { level: ClickHouseLogLevel.OFF },
});
try {
  const result = await runReadOnlyQuery(client, args.positionals[0]!, limits);
  process.stdout.write(formatResult(result, format));
  console.error(summaryLine(result, limits.maxRows));
} catch (err) {
  console.error(`✘ ${(err as Error).message}`);
  process.exitCode = err instanceof QueryRejectedError ? 2 : 1;
} finally {
  await client.close();
}
