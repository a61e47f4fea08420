/**
 * The fault suite, long mode: under a steady API load, kill -9 each process of the
 * pipeline in turn, let the stack bring it back, and check that nothing was lost or
 * duplicated (PostgreSQL = ClickHouse, views = recomputation, slots active).
 *
 *   npm run faults [-- --targets kafka,clickhouse] [--rounds 2] [--rate 50] [--before-s 10] [--after-s 10]
 *
 * Prints a Markdown report table (the README's). Exit 1 if any fault lost, duplicated
 * or left something unequal. Needs the running native stack; runs for minutes.
 */
import { parseArgs } from 'node:util';
import { createClient } from '@clickhouse/client';
import { logLevel } from 'kafkajs';
import { createKafka, kafkaAccess } from '@cdc/kafka';
import pg from 'pg';
import { loadDotEnv, loadEndpoints } from '@cdc/config';
import { temporaryKey, type TemporaryKey } from '../keys/temporary.js';
import { loadStackConfig } from '../stack/config.js';
import { up } from '../stack/stack.js';
import { faultPassed, reportTable, runFault, TARGETS, type FaultResult, type Target } from './suite.js';

const { values } = parseArgs({
  options: {
    targets: { type: 'string' },
    rounds: { type: 'string', default: '1' },
    rate: { type: 'string', default: '50' },
    'before-s': { type: 'string', default: '10' },
    'after-s': { type: 'string', default: '10' },
    'catch-up-s': { type: 'string', default: '300' },
  },
});
const targets = (values.targets?.split(',') ?? [...TARGETS]) as Target[];
for (const t of targets) {
  if (!TARGETS.includes(t)) {
    console.error(`✘ unknown target ${t}; one of ${TARGETS.join(', ')}`);
    process.exit(2);
  }
}
const num = (name: string, v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) {
    console.error(`✘ --${name} expects a positive number`);
    process.exit(2);
  }
  return n;
};

loadDotEnv();
const env = loadEndpoints();
const config = loadStackConfig();
// Idle clients die with the PostgreSQL the suite kills; the pools replace them.
const pool = (connectionString: string) => new pg.Pool({ connectionString, max: 2 }).on('error', () => {});
const db = { crm: pool(env.CRM_DATABASE_URL), telemetry: pool(env.TELEMETRY_DATABASE_URL) };
const ch = createClient({ url: env.CLICKHOUSE_URL, username: env.CLICKHOUSE_USER, password: env.CLICKHOUSE_PASSWORD, request_timeout: 120_000 });
const admin = createKafka({ ...kafkaAccess(env), logLevel: 'silent' }, 'faults').admin();
const log = (line: string) => console.error(`[faults] ${line}`);

const results: FaultResult[] = [];
let key: TemporaryKey | undefined;
try {
  await up(config, ['infrastructure', 'apps'], (l) => log(l));
  key = await temporaryKey(env, 'fault suite', ['users:write', 'telemetry:write']);
  await admin.connect();
  const started = new Date();
  for (let round = 1; round <= num('rounds', values.rounds); round++) {
    for (const target of targets) {
      log(`round ${round}: ${target}`);
      const r = await runFault(target, {
        config,
        db,
        ch,
        admin,
        ratePerS: num('rate', values.rate),
        apiKey: key.token,
        beforeMs: num('before-s', values['before-s']) * 1000,
        afterMs: num('after-s', values['after-s']) * 1000,
        catchUpMs: num('catch-up-s', values['catch-up-s']) * 1000,
        log,
      });
      log(`${target}: ${faultPassed(r) ? 'pass' : 'FAIL'} (lost ${r.lost}, duplicated ${r.duplicated}, recovered in ${(r.recoveredMs / 1000).toFixed(1)} s)`);
      results.push(r);
    }
  }
  console.log(`Fault suite, ${started.toISOString()}, rate ${values.rate} operations/s, ${values.rounds} round(s)\n`);
  console.log(reportTable(results));
} finally {
  await key?.revoke().catch((err: Error) => log(`could not revoke the suite's key ${key?.id}: ${err.message}`));
  await Promise.allSettled([admin.disconnect(), db.crm.end(), db.telemetry.end(), ch.close()]);
}
process.exit(results.every(faultPassed) ? 0 : 1);
