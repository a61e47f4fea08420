import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadEndpoints } from '@cdc/config';
import { createCrmDb, type CrmDb } from '@cdc/db/crm';
import { createTelemetryDb, type TelemetryDb } from '@cdc/db/telemetry';
import { EXIT, ImportError } from '../errors.js';
import { generateRecords, type GenerateOptions } from '../generator.js';
import { runImport, type ImportOptions } from '../import.js';
import { runScript, type ScriptRun } from '../../../tests/support/run-script.js';

/*
 * Integration tests against the real crm_db / telemetry_db of the native stack. Other
 * tests write to the same tables at the same time, so everything here is unique to
 * this run and is the only thing deleted afterwards: users in a random e-mail domain,
 * telemetry in a random user_id range at or above 800,000,000.
 */

const ROOT = join(import.meta.dirname, '../../..');
const RUN = randomBytes(4).toString('hex');
const DOMAIN = `import-test-${RUN}.example`;
const USER_BASE = 800_000_000 + randomInt(0, 1_000) * 1_000_000; // this run owns [USER_BASE, USER_BASE + 1,000,000)
const dir = mkdtempSync(join(tmpdir(), `import-int-${RUN}-`));
const env = loadEndpoints();
let crm: CrmDb;
let tel: TelemetryDb;

beforeAll(() => {
  crm = createCrmDb(env.CRM_DATABASE_URL, { query_timeout: 60_000 });
  tel = createTelemetryDb(env.TELEMETRY_DATABASE_URL, { query_timeout: 60_000 });
});

afterAll(async () => {
  await crm?.pool.query(`DELETE FROM users WHERE email LIKE $1`, [`%${DOMAIN}`]); // every test's subdomain
  await tel?.pool.query(`DELETE FROM telemetry_events WHERE user_id >= $1 AND user_id < $2`, [USER_BASE, USER_BASE + 1_000_000]);
  await crm?.close();
  await tel?.close();
  rmSync(dir, { recursive: true, force: true });
});

let fileNo = 0;
function write(name: string, content: string): string {
  const p = join(dir, `${++fileNo}-${name}`);
  writeFileSync(p, content);
  return p;
}
const usersIn = async (domain: string) =>
  Number((await crm.pool.query(`SELECT count(*) AS n FROM users WHERE email LIKE $1`, [`%@${domain}`])).rows[0].n);
const eventsIn = async (from: number, to: number) =>
  Number((await tel.pool.query(`SELECT count(*) AS n FROM telemetry_events WHERE user_id >= $1 AND user_id < $2`, [from, to])).rows[0].n);

function imp(o: Omit<ImportOptions, 'pool'>) {
  return runImport({ ...o, pool: o.kind === 'users' ? crm.pool : tel.pool });
}
const readRejects = (path: string): Record<string, string>[] => parse(readFileSync(path), { columns: true });

/** A generated file and, per data record, the line it starts on and what it should become. */
function generated(name: string, o: GenerateOptions) {
  let text = '';
  let line = 1;
  const expected = { ok: [] as number[], bad: new Map<number, string>(), duplicate: [] as number[] };
  for (const r of generateRecords(o)) {
    if (r.status === 'ok') expected.ok.push(line);
    if (r.status === 'bad') expected.bad.set(line, r.corruption!);
    if (r.status === 'duplicate') expected.duplicate.push(line);
    text += r.text;
    line += r.lines;
  }
  return { file: write(name, text), expected };
}

function cli(args: string[], extraEnv: Record<string, string> = {}): Promise<ScriptRun> {
  return runScript('scripts/import/cli.ts', args, extraEnv);
}

describe('the sample files (data/samples)', () => {
  it('crm.csv imports cleanly; a re-run loads nothing and counts every row as a duplicate', async () => {
    const sample = readFileSync(join(ROOT, 'data/samples/crm.csv'), 'utf8');
    const rows: Record<string, string>[] = parse(sample, { columns: true });
    const domain = `samples.${DOMAIN}`;
    const file = write('crm.csv', sample.replace(/@[^,\s"]+/g, `@${domain}`));

    const first = await imp({ kind: 'users', file });
    expect(first).toMatchObject({ loaded: rows.length, duplicate: 0, rejected: 0, records: rows.length, rejectsFile: null });
    expect(await usersIn(domain)).toBe(rows.length);

    // Values as the API would store them: e-mail lower-cased, registered_at from the file when present.
    const withDate = rows.find((r) => r.registered_at)!;
    const email = withDate.email!.replace(/@.*/, `@${domain}`).toLowerCase();
    const db = (await crm.pool.query(`SELECT email, registered_at, age FROM users WHERE email = $1`, [email])).rows[0];
    expect(db.registered_at.getTime()).toBe(new Date(withDate.registered_at!).getTime());
    expect(db.age).toBe(withDate.age ? Number(withDate.age) : null);

    const again = await imp({ kind: 'users', file });
    expect(again).toMatchObject({ loaded: 0, duplicate: rows.length, rejected: 0, records: rows.length });
    expect(await usersIn(domain)).toBe(rows.length);
  });

  it('signal_samples.csv imports cleanly (given and derived event_uuids); a re-run loads nothing', async () => {
    const rows: Record<string, string>[] = parse(readFileSync(join(ROOT, 'data/samples/signal_samples.csv')), { columns: true });
    const base = USER_BASE + 100_000;
    const rewritten = rows.map((r) => ({ ...r, user_id: String(base + Number(r.user_id)), event_uuid: r.event_uuid ? randomUUID() : '' }));
    const file = write('signal_samples.csv', stringify(rewritten, { header: true }));
    const derived = rows.filter((r) => !r.event_uuid).length;
    expect(derived).toBeGreaterThan(0);

    const first = await imp({ kind: 'telemetry', file });
    expect(first).toMatchObject({ loaded: rows.length, duplicate: 0, rejected: 0, records: rows.length });
    const v5 = await tel.pool.query(
      `SELECT count(*) AS n FROM telemetry_events WHERE user_id >= $1 AND user_id < $2 AND substring(event_uuid::text, 15, 1) = '5'`,
      [base, base + 100_000],
    );
    expect(Number(v5.rows[0].n)).toBe(derived);

    const again = await imp({ kind: 'telemetry', file });
    expect(again).toMatchObject({ loaded: 0, duplicate: rows.length, rejected: 0 });
    expect(await eventsIn(base, base + 100_000)).toBe(rows.length);
  });
});

describe('corrupt files: good rows load, every bad one is in the rejects file with its line and reasons', () => {
  it.each([
    ['users', { kind: 'users', rows: 3_000, badEvery: 7, domain: `gen.${DOMAIN}` }],
    ['telemetry', { kind: 'telemetry', rows: 3_000, badEvery: 7, withUuid: true, userIdBase: USER_BASE + 200_000, users: 1_000 }],
    ['telemetry without event_uuid', { kind: 'telemetry', rows: 3_000, badEvery: 5, userIdBase: USER_BASE + 300_000, users: 1_000 }],
  ] as const)('generated with --bad-every: %s', async (_name, gen) => {
    const o = { ...gen, seed: randomInt(0, 2 ** 32) } as GenerateOptions;
    const { file, expected } = generated(`${o.kind}-bad.csv`, o);
    const rejectsFile = join(dir, `${o.kind}-${fileNo}.rejects.csv`);

    const r = await imp({ kind: o.kind, file, rejectsFile, batchSize: 400, listLines: 1e9 });
    expect(r.records).toBe(o.rows);
    expect(r.loaded + r.duplicate + r.rejected).toBe(r.records);
    expect(r.loaded).toBe(expected.ok.length);
    expect(r.duplicate).toBe(expected.duplicate.length);
    expect(r.rejected).toBe(expected.bad.size);
    expect(r.rejectedLines).toEqual([...expected.bad.keys()]);
    expect(r.duplicateLines).toEqual(expected.duplicate);

    const rejects = readRejects(rejectsFile);
    expect(rejects.map((x) => Number(x.line))).toEqual([...expected.bad.keys()]);
    for (const x of rejects) {
      const kind = expected.bad.get(Number(x.line))!;
      expect(x.errors, `line ${x.line} (${kind})`).not.toBe('');
      // A user's registered_at of year 0 passes the schema and PostgreSQL refuses it (the
      // fallback that finds the one bad row); an event's time is range-checked first.
      if (kind === 'year-zero') {
        expect(x.errors).toMatch(o.kind === 'users' ? /^database: date\/time field value out of range/ : /^event_timestamp: must lie between 1970-01-01T00:00:00Z and 2105-12-31/);
      }
      if (kind.endsWith('quote')) {
        expect(x.errors).toMatch(/^malformed CSV: /);
        expect(x.raw).not.toBe('');
      }
      if (kind === 'missing-field' || kind === 'extra-field') expect(x.errors).toMatch(/^malformed CSV: expected \d+ fields, found \d+$/);
    }

    const again = await imp({ kind: o.kind, file, rejectsFile, batchSize: 400 });
    expect(again).toMatchObject({ loaded: 0, duplicate: expected.ok.length + expected.duplicate.length, rejected: expected.bad.size });
  });

  it('hand-written users edge cases', async () => {
    const D = `edge.${DOMAIN}`;
    const file = write(
      'users-edge.csv',
      [
        'name,email,age,gender,country,address,phone,registered_at', //                                      1
        `Olena Kovalenko,Olena+EMG@${D},34,female,Ukraine,"Kyiv, Khreshchatyk 1",+380441234567,2020-02-29T10:00:00+02:00`, // 2 ok
        'Bad Mail,not-an-email,30,,,,,', //                                                                   3
        `Old,old@${D},151,,,,,`, //                                                                           4
        `Abc,abc@${D},12abc,,,,,`, //                                                                         5
        `,empty-name@${D},20,,,,,`, //                                                                        6
        `"Broken ""quote,broken@${D},20,,,,,`, //                                                             7 unclosed quote
        `Too,few@${D},20`, //                                                                                 8
        `Multi,multi@${D},40,,,"Street 1`, //                                                                 9-10 ok
        'City",,',
        `Dup,OLENA+emg@${D},,,,,,`, //                                                                        11 duplicate
        `Stray,str"ay@${D},1,,,,,`, //                                                                        12
        `Year,year@${D},1,,,,,0000-01-01T00:00:00Z`, //                                                       13 refused by PostgreSQL
        `Nobody,nobody@${D},,,,,,`, //                                                                        14 ok
        `Many,many@${D},1,,,,,2024-01-01,x`, //                                                               15
        `${'N'.repeat(201)},long@${D},,,,,,`, //                                                              16
      ].join('\n') + '\n',
    );
    const rejectsFile = join(dir, 'users-edge.rejects.csv');
    const r = await imp({ kind: 'users', file, rejectsFile });
    expect(r).toMatchObject({ loaded: 3, duplicate: 1, rejected: 10, records: 14, lines: 16, duplicateLines: [11] });
    const rejects = readRejects(rejectsFile);
    expect(Object.keys(rejects[0]!)).toEqual(['name', 'email', 'age', 'gender', 'country', 'address', 'phone', 'registered_at', 'line', 'errors', 'raw']);
    expect(rejects.map((x) => [Number(x.line), x.errors])).toEqual([
      [3, 'email: Invalid email address'],
      [4, 'age: Too big: expected number to be <=150'],
      [5, 'age: expected an integer, got "12abc"'],
      [6, 'name: required, but empty'],
      [7, 'malformed CSV: name (field 1): quoted field is never closed'],
      [8, 'malformed CSV: expected 8 fields, found 3'],
      [12, 'malformed CSV: email (field 2): a quote (") inside an unquoted field (quote the whole field and double the quote)'],
      [13, 'database: date/time field value out of range: "0000-01-01T00:00:00Z"'],
      [15, 'malformed CSV: expected 8 fields, found 9'],
      [16, 'name: Too big: expected string to have <=200 characters'],
    ]);
    // Values as read, for fixing and re-importing:
    expect(rejects.find((x) => x.line === '5')).toMatchObject({ name: 'Abc', email: `abc@${D}`, age: '12abc', raw: '' });
    expect(rejects.find((x) => x.line === '7')).toMatchObject({ name: '', raw: `"Broken ""quote,broken@${D},20,,,,,` });
    expect(rejects.find((x) => x.line === '8')).toMatchObject({ name: 'Too', email: `few@${D}`, age: '20' });

    const db = await crm.pool.query(`SELECT email, address, registered_at FROM users WHERE email LIKE $1 ORDER BY email`, [`%@${D}`]);
    const byEmail = new Map(db.rows.map((x) => [x.email, x]));
    expect(byEmail.get(`olena+emg@${D}`)?.registered_at.toISOString()).toBe('2020-02-29T08:00:00.000Z');
    expect(byEmail.get(`multi@${D}`)?.address).toBe('Street 1\nCity');
    expect(Date.now() - byEmail.get(`nobody@${D}`)?.registered_at.getTime()).toBeLessThan(10 * 60_000);
  });

  it('hand-written telemetry edge cases', async () => {
    const B = USER_BASE + 400_000;
    const row = (user: number, amp: string, ts = '2026-11-25T12:00:00.5Z', freq = '1000', dur = '0', muscle = 'flexor') =>
      `${user},hand,${muscle},${freq},${dur},${amp},${ts}`;
    const file = write(
      'telemetry-edge.csv',
      [
        'user_id,prosthesis_type,muscle_group,signal_frequency,signal_duration,signal_amplitude,event_timestamp',
        row(B + 1, '0.5'), //                                          2 ok
        row(B + 1, '0.50', '2026-11-25T14:00:00.500000+02:00'), //     3 the same event, other notation: duplicate
        row(B + 1, 'NaN'), //                                          4
        row(B + 1, '1', undefined, '12abc'), //                        5
        row(B + 1, 'Infinity'), //                                     6
        row(B + 1, '1e999'), //                                        7
        row(B + 1, '1', undefined, undefined, undefined, ''), //       8
        row(B + 1, '1', undefined, '0', '-1'), //                      9
        row(B + 1, '1', '2026-11-25 12:00:00'), //                     10
        row(2_147_483_648, '1'), //                                    11
        row(B + 1, '1', '0000-06-01T00:00:00Z'), //                    12 outside what ClickHouse stores
        row(B + 2, '-0.25'), //                                        13 ok
      ].join('\r\n'),
    );
    const rejectsFile = join(dir, 'telemetry-edge.rejects.csv');
    const r = await imp({ kind: 'telemetry', file, rejectsFile });
    expect(r).toMatchObject({ loaded: 2, duplicate: 1, rejected: 9, records: 12, duplicateLines: [3] });
    expect(readRejects(rejectsFile).map((x) => [Number(x.line), x.errors])).toEqual([
      [4, 'signal_amplitude: expected a finite decimal number, got "NaN"'],
      [5, 'signal_frequency: expected an integer, got "12abc"'],
      [6, 'signal_amplitude: expected a finite decimal number, got "Infinity"'],
      [7, 'signal_amplitude: number out of range: "1e999"'],
      [8, 'muscle_group: required, but empty'],
      [9, 'signal_frequency: Too small: expected number to be >=1; signal_duration: Too small: expected number to be >=0'],
      [10, 'event_timestamp: Invalid ISO datetime'],
      [11, 'user_id: Too big: expected number to be <=2147483647'],
      [12, 'event_timestamp: must lie between 1970-01-01T00:00:00Z and 2105-12-31T23:59:59.999999Z (the range ClickHouse\'s per-minute aggregates hold)'],
    ]);
    expect(await eventsIn(B, B + 100)).toBe(2);
  });

  it('unknown columns: the file is refused before anything is written, or imported with ignoreUnknownColumns', async () => {
    const domain = `unknown-${DOMAIN}`;
    const file = write('users-unknown.csv', `name,email,emial,notes\nAnn,ann@${domain},x,y\n`);
    const err = await imp({ kind: 'users', file }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ImportError);
    expect((err as ImportError).exitCode).toBe(EXIT.BAD_HEADER);
    expect((err as Error).message).toMatch(/unknown columns: emial, notes/);
    expect(await usersIn(domain)).toBe(0);

    const r = await imp({ kind: 'users', file, ignoreUnknownColumns: true });
    expect(r).toMatchObject({ loaded: 1, header: { ignored: ['emial', 'notes'] } });
    expect(await usersIn(domain)).toBe(1);
    await crm.pool.query(`DELETE FROM users WHERE email LIKE $1`, [`%@${domain}`]);
  });
});

describe('the command line', () => {
  it('exit 0 with a summary; rejects file next to the input by default', async () => {
    const file = write('cli-users.csv', `name,email,age\nAnn,ann@cli.${DOMAIN},1\nBob,bob@cli.${DOMAIN},abc\n`);
    const r = await cli(['users', file, '--quiet']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/loaded\s+1\n/);
    expect(r.stdout).toMatch(/rejected\s+1\s+\(line 3\)/);
    expect(r.stdout).toContain(`rejects file: ${file}.rejects.csv`);
    expect(r.stdout).toMatch(/total\s+2 records/);
    expect(r.stdout).toMatch(/optional columns not in the file: gender, country, address, phone, registered_at/);
    expect(readRejects(`${file}.rejects.csv`)[0]).toMatchObject({ name: 'Bob', line: '3' });
    await crm.pool.query(`DELETE FROM users WHERE email LIKE $1`, [`%@cli.${DOMAIN}`]);
  });

  it('exit 4 naming every missing column, 3 for an unreadable file, 2 for bad usage, 6 when the database is down', async () => {
    const noCols = await cli(['telemetry', write('cols.csv', 'user_id,muscle_group,comment\n1,x,y\n')]);
    expect(noCols.code).toBe(EXIT.BAD_HEADER);
    expect(noCols.stderr).toContain(
      'missing required columns: prosthesis_type, signal_frequency, signal_duration, signal_amplitude, event_timestamp; unknown column: comment',
    );
    const missing = await cli(['users', join(dir, 'does-not-exist.csv')]);
    expect(missing.code).toBe(EXIT.INPUT_UNREADABLE);
    expect(missing.stderr).toMatch(/cannot read .*does-not-exist\.csv: no such file/);
    expect((await cli(['people', 'x.csv'])).code).toBe(EXIT.USAGE);
    expect((await cli(['users', 'x.csv', '--batch', '0'])).code).toBe(EXIT.USAGE);
    const down = await cli(['users', write('down.csv', `name,email\nA,a@down.${DOMAIN}\n`)], {
      CRM_DATABASE_URL: 'postgresql://postgres:postgres@127.0.0.1:1/crm_db',
    });
    expect(down.code).toBe(EXIT.DATABASE);
    expect(down.stderr).toMatch(/cannot connect to the database: .*; nothing was written/);
  });

  it('a database failure mid-import names the batch and its lines; committed batches stay; a re-run completes it', async () => {
    const domain = `mid.${DOMAIN}`;
    const rows = 60_000;
    const { file } = generated('mid-users.csv', { kind: 'users', rows, seed: randomInt(0, 2 ** 32), domain });
    const child = cli(['users', file, '--batch', '200', '--quiet']);
    // Wait until some batches are committed, then kill the importer's connection.
    const app = `cdc-import users ${file.split('/').pop()}`.slice(0, 63);
    let killed = 0;
    for (let i = 0; i < 600 && killed === 0; i++) {
      await new Promise((res) => setTimeout(res, 50));
      if ((await usersIn(domain)) < 2_000) continue;
      const k = await crm.pool.query(`SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = $1`, [app]);
      killed = k.rows.filter((x) => x.ok).length;
    }
    expect(killed).toBeGreaterThan(0);
    const r = await child;
    expect(r.code).toBe(EXIT.DATABASE);
    expect(r.stderr).toMatch(/database error while writing batch \d+ \(lines \d+–\d+, \d+ rows\)/);
    expect(r.stderr).toMatch(/Batches 1–\d+ \(through line \d+, \d+ rows loaded\) are committed and stay\. Re-running the same command is safe/);
    const committed = await usersIn(domain);
    const said = Number(/(\d+) rows loaded\)/.exec(r.stderr)![1]);
    // (The batch being written when the connection died is normally rolled back; it is only
    // committed if the kill lands between COMMIT and the reply. Either way a re-run is exact.)
    expect(committed === said || committed === said + 200).toBe(true);

    const again = await imp({ kind: 'users', file });
    expect(again.loaded + again.duplicate).toBe(rows);
    expect(again.duplicate).toBe(committed);
    expect(await usersIn(domain)).toBe(rows);
    await crm.pool.query(`DELETE FROM users WHERE email LIKE $1`, [`%@${domain}`]);
  });
});
