/**
 * Erases one user's personal data everywhere (docs/security.md, "Erasure"): the same
 * work as POST /users/{id}/erase (scope users:erase), for an operator on the stack's
 * machine.
 *
 *   npm run erase -- USER_ID [--json] [--cdc-timeout-s N]
 *
 * Prints what was removed where (a table, or the report as JSON with --json).
 * Exit codes: 0 erased, 1 no such user or the erasure is incomplete (the report says
 * what is left), 2 usage.
 */
import { parseArgs } from 'node:util';
import pg from 'pg';
import { createClickHouse } from '@cdc/clickhouse';
import { loadDotEnv, loadEndpoints } from '@cdc/config';
import { createKafka, kafkaAccess } from '@cdc/kafka';
import { eraseUser, ErasureIncomplete, UserNotFound, type ErasureReport } from '@cdc/erasure';

const USAGE = `usage: npm run erase -- USER_ID [--json] [--cdc-timeout-s N]

  Deletes the user from crm_db, waits until the delete has reached ClickHouse (at most
  --cdc-timeout-s, default 60), removes every ClickHouse copy of their row and, through
  compaction, every Kafka record of it (about 20 s), then checks that no ClickHouse
  table and no Kafka record still holds their row or their e-mail.
  --json   the report as one JSON object on stdout`;

const EXIT = { OK: 0, FAILED: 1, USAGE: 2 } as const;

function usage(message?: string): never {
  if (message) process.stderr.write(`erase: ${message}\n\n${USAGE}\n`);
  else process.stdout.write(`${USAGE}\n`);
  process.exit(message ? EXIT.USAGE : EXIT.OK);
}

function parse(argv: string[]): { id: number; json: boolean; cdcTimeoutMs: number } {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: { json: { type: 'boolean' }, 'cdc-timeout-s': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (err) {
    usage((err as Error).message);
  }
  if (parsed.values.help) usage();
  const [id, ...extra] = parsed.positionals;
  if (!id || extra.length > 0 || !/^\d{1,10}$/.test(id) || Number(id) < 1 || Number(id) > 2_147_483_647) usage('give exactly one user id');
  const timeout = parsed.values['cdc-timeout-s'] ?? '60';
  if (!/^\d+$/.test(timeout) || Number(timeout) < 1) usage('--cdc-timeout-s expects a whole number of seconds ≥ 1');
  return { id: Number(id), json: parsed.values.json ?? false, cdcTimeoutMs: Number(timeout) * 1000 };
}

function print(report: ErasureReport, json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(report)}\n`);
    return;
  }
  const lines = [
    [report.postgres.table, report.postgres.removed],
    ...report.clickhouse.map((t) => [`clickhouse ${t.table}`, t.removed] as const),
    ...report.kafka.map((t) => [`kafka ${t.topic}`, t.removed] as const),
  ];
  process.stdout.write(`${'store'.padEnd(40)} rows (records) removed\n`);
  for (const [store, n] of lines) process.stdout.write(`${String(store).padEnd(40)} ${n}\n`);
  for (const r of report.residue) process.stdout.write(`STILL READABLE: ${r.table}.${r.column} (${r.rows} rows)\n`);
  process.stdout.write(`backups: ${report.backups}\n`);
}

const args = parse(process.argv.slice(2));
loadDotEnv();
const env = loadEndpoints();
const crm = new pg.Pool({ connectionString: env.CRM_DATABASE_URL, max: 1, connectionTimeoutMillis: 5_000 });
const ch = createClickHouse(env, 'pipeline', { requestTimeoutMs: 300_000, application: 'cdc-erase' });
const kafka = { client: createKafka({ ...kafkaAccess(env), logLevel: 'error' }, 'cdc-erase'), access: kafkaAccess(env) };
try {
  // The audit log names an operator command, not a key: the CLI runs with the stack's own credentials.
  const report = await eraseUser({ crm, ch, kafka }, args.id, { keyId: 'cli:erase', requestId: null }, { cdcTimeoutMs: args.cdcTimeoutMs });
  print(report, args.json);
  process.exitCode = EXIT.OK;
} catch (err) {
  if (err instanceof ErasureIncomplete) {
    print(err.report, args.json);
    process.stderr.write(`erase: ${err.message}\n`);
  } else if (err instanceof UserNotFound) {
    process.stderr.write(`erase: ${err.message}\n`);
  } else {
    process.stderr.write(`erase: ${(err as Error).message}\n`);
  }
  process.exitCode = EXIT.FAILED;
} finally {
  await crm.end();
  await ch.close();
}
