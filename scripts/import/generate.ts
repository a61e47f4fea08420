import { parseArgs } from 'node:util';
import { EXIT } from './errors.js';
import { writeCsv, type GenKind } from './generator.js';

const USAGE = `usage: tsx scripts/import/generate.ts <users|telemetry> --rows N --seed S [options] > file.csv

Writes a deterministic CSV to stdout (same options → byte-identical file), streaming.
  --rows N            data rows (header not counted)
  --seed S            PRNG seed (integer, 0–4294967295)
  --bad-every K       corrupt every K-th row (bad numbers, empty fields, bad dates,
                      bad e-mails, broken quotes, wrong field counts, duplicates …)
  --domain D          users: every e-mail in domain D (default: a mix of example domains)
  --user-id-base B    telemetry: user_id from B (default 1) …
  --users U           … to B+U-1 (default 10000)
  --with-uuid         telemetry: add the event_uuid column (≈10 % of values empty)`;

function fail(msg: string): never {
  process.stderr.write(`error: ${msg}\n\n${USAGE}\n`);
  process.exit(EXIT.USAGE);
}

function intOpt(name: string, v: string | undefined, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) fail(`--${name} must be an integer from ${min} to ${max}, got "${v}"`);
  return Number(v);
}

let parsed;
try {
  parsed = parseArgs({
    allowPositionals: true,
    options: {
      rows: { type: 'string' },
      seed: { type: 'string' },
      'bad-every': { type: 'string' },
      domain: { type: 'string' },
      'user-id-base': { type: 'string' },
      users: { type: 'string' },
      'with-uuid': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
} catch (err) {
  fail((err as Error).message);
}
const { values: o, positionals } = parsed;
if (o.help) {
  console.log(USAGE);
  process.exit(0);
}
const kind = positionals[0];
if (kind !== 'users' && kind !== 'telemetry') fail(kind ? `unknown kind "${kind}"` : 'missing the kind (users or telemetry)');
if (positionals.length > 1) fail(`unexpected argument: ${positionals.slice(1).join(' ')}`);
const rows = intOpt('rows', o.rows, 0, Number.MAX_SAFE_INTEGER) ?? fail('--rows is required');
const seed = intOpt('seed', o.seed, 0, 0xffffffff) ?? fail('--seed is required');
if (o.domain !== undefined && !/^[a-z0-9.-]+\.[a-z]{2,}$/i.test(o.domain)) fail(`--domain must be a domain name, got "${o.domain}"`);

process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0); // the reader went away (… | head)
  throw err;
});

await writeCsv(
  {
    kind: kind as GenKind,
    rows,
    seed,
    badEvery: intOpt('bad-every', o['bad-every'], 1, Number.MAX_SAFE_INTEGER),
    domain: o.domain,
    userIdBase: intOpt('user-id-base', o['user-id-base'], 1, 2_147_483_647),
    users: intOpt('users', o.users, 1, 2_147_483_647),
    withUuid: o['with-uuid'] ?? false,
  },
  process.stdout,
);
