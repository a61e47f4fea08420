import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseGrants } from '../src/grants.js';
import type { RunningServer } from '../src/server.js';
import { loadUsers } from '../src/users.js';
import { CASES, SCHEMA, USERS_FILE } from './grants-corpus.js';
import { startTestServer } from './support.js';

/**
 * The analyst's grants of clickhouse/users.yaml, enforced by chdb-server: the
 * contact columns of default.users (name, email, phone, address) cannot be read
 * by any route, everything analytical still can, and the pipeline reads all.
 */
process.env.CLICKHOUSE_PASSWORD ??= 'grants-test-pipeline';
process.env.CLICKHOUSE_ANALYST_PASSWORD ??= 'grants-test-analyst';
const PIPELINE = ['pipeline', process.env.CLICKHOUSE_PASSWORD] as const;
const ANALYST = ['analyst', process.env.CLICKHOUSE_ANALYST_PASSWORD] as const;
const CONTACT = ['name', 'email', 'phone', 'address'] as const;

let server: RunningServer;

interface Answer {
  status: number;
  code: string | null;
  text: string;
}

async function ask(
  who: readonly [string, string],
  sql: string,
  params: Record<string, string> = {},
  method: 'POST' | 'GET' = 'POST',
): Promise<Answer> {
  const url = new URL(server.url);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  if (method === 'GET') url.searchParams.set('query', sql);
  const res = await fetch(url, {
    method,
    headers: { Authorization: `Basic ${Buffer.from(`${who[0]}:${who[1]}`).toString('base64')}` },
    ...(method === 'POST' && { body: sql }),
  });
  return { status: res.status, code: res.headers.get('x-clickhouse-exception-code'), text: await res.text() };
}

async function ok(who: readonly [string, string], sql: string, params: Record<string, string> = {}): Promise<string> {
  const a = await ask(who, sql, params);
  expect(a.code, `${sql}\n${a.text}`).toBeNull();
  expect(a.status, a.text).toBe(200);
  return a.text;
}

/** Refused with ClickHouse's own ACCESS_DENIED; the answer carries no contact value. */
async function refused(sql: string, needs?: RegExp, params: Record<string, string> = {}): Promise<string> {
  const a = await ask(ANALYST, sql, params);
  expect(a.code, `${sql}\n${a.text}`).toBe('497');
  expect(a.status).toBe(403);
  expect(a.text).toMatch(/^Code: 497\. DB::Exception: analyst: .*\(ACCESS_DENIED\)\n$/);
  if (needs) expect(a.text).toMatch(needs);
  expect(a.text).not.toMatch(/ann@example\.com|\+49 170|Hauptstr/);
  return a.text;
}

beforeAll(async () => {
  server = await startTestServer({ CHDB_USERS_FILE: USERS_FILE });
  for (const sql of [
    ...SCHEMA,
    // A view the pipeline made over the contact columns: no way around the grants.
    'CREATE VIEW default.users_contact AS SELECT id, email, phone FROM default.users',
  ]) {
    await ok(PIPELINE, sql);
  }
}, 60_000);

afterAll(async () => {
  await server?.close();
}, 60_000);

describe('the analyst against the corpus the engine is checked with (grants-corpus.ts)', () => {
  it.each(CASES.map((c) => [c.server, c.sql] as const))('%s: %s', async (outcome, sql) => {
    if (outcome === 'denied') await refused(sql);
    else await ok(ANALYST, sql);
  });
});

describe('the analyst cannot read contact columns of default.users', () => {
  it.each(CONTACT)('SELECT %s directly: refused with the grant it lacks', async (column) => {
    const text = await refused(`SELECT id, ${column} FROM default.users`);
    expect(text).toBe(
      `Code: 497. DB::Exception: analyst: Not enough privileges. To execute this query, it's necessary to have the grant SELECT(${column}) ON default.users. (ACCESS_DENIED)\n`,
    );
  });

  it.each([
    ['SELECT *', 'SELECT * FROM default.users'],
    ['SELECT u.*', 'SELECT u.* FROM default.users AS u FINAL'],
    ['an alias', 'SELECT id, email AS e FROM default.users'],
    ['a subquery', 'SELECT e FROM (SELECT email AS e FROM default.users)'],
    ['a CTE', 'WITH c AS (SELECT email FROM default.users) SELECT count() FROM c'],
    ['a scalar subquery', 'SELECT (SELECT email FROM default.users WHERE id = 1) AS e'],
    ['a JOIN', 'SELECT t.id, u.email FROM default.telemetry_events AS t JOIN default.users AS u ON u.id = t.user_id'],
    ['JOIN USING', 'SELECT id, email FROM default.telemetry_events AS t JOIN (SELECT id, email FROM default.users) AS u USING (id)'],
    ['a UNION', "SELECT 'x' AS v UNION ALL SELECT email FROM default.users"],
    ['a lambda', "SELECT arrayMap(x -> concat(x, email), ['a']) FROM default.users"],
    ['WHERE only', "SELECT count() FROM default.users WHERE email = 'ann@example.com'"],
    ['ORDER BY only', 'SELECT id FROM default.users ORDER BY phone'],
    ['GROUP BY only', 'SELECT count() FROM default.users GROUP BY address'],
    ['IN over a tuple', "SELECT 1 WHERE (1, 'ann@example.com') IN (SELECT id, email FROM default.users)"],
    ['a subcolumn', 'SELECT count() FROM default.users WHERE phone.null'],
    ['the pipeline’s view', 'SELECT id, email FROM default.users_contact'],
    ['a column of the view that is not contact', 'SELECT id FROM default.users_contact'],
  ])('through %s: refused', async (_, sql) => {
    await refused(sql, /SELECT\((name|email|phone|address)(, (name|email|phone|address))*\) ON default\.users\b/);
  });

  it('through merge(): refused', async () => {
    await refused("SELECT email FROM merge('default', '^users$')");
  });

  it('through table functions that reach other sources (a loop back over HTTP, files, remote): refused with the grant a server asks', async () => {
    const back = `${server.url}/?user=analyst&password=${ANALYST[1]}&query=SELECT+email+FROM+default.users`;
    await refused(`SELECT * FROM url('${back}', 'TSV', 'email String')`, /the grant READ ON URL\. /);
    await refused(`SELECT * FROM remote('127.0.0.1', default.users)`, /the grant READ ON REMOTE\. /);
    await refused("SELECT * FROM file('/etc/hostname', 'RawBLOB')", /the grant READ ON FILE\. /);
    await refused("SELECT file('/etc/hostname')", /the grant READ ON FILE\. /);
  });

  it('through the raw change events and the Join table of the debezium database: refused', async () => {
    await refused('SELECT raw_message FROM debezium.kafka_errors', /SELECT\(raw_message\) ON debezium\.kafka_errors/);
    await refused('SELECT * FROM debezium.kafka_errors', /SELECT\(raw_message\) ON debezium\.kafka_errors/);
    await refused('SELECT email FROM debezium.users_changes', /SELECT\(email\) ON debezium\.users_changes/);
    await refused('SELECT count() FROM debezium.users_changes', /SELECT for at least one column on debezium\.users_changes/);
    await refused("SELECT joinGet('debezium.users_join', 'email', toInt32(1))", /SELECT\(email\) ON debezium\.users_join/);
    await refused('SELECT email FROM debezium.users_join', /SELECT\(email\) ON debezium\.users_join/);
  });

  it("through other users' query text: system.processes hides it, system.query_log is not readable", async () => {
    await refused('SELECT query FROM system.processes', /SELECT\(query\) ON system\.processes/);
    const log = await ask(ANALYST, 'SELECT query FROM system.query_log');
    expect(log.status).toBeGreaterThanOrEqual(400);
    expect(['497', '60']).toContain(log.code);
    expect(await ok(ANALYST, 'SELECT count() > 0 FROM system.processes')).toBe('1\n');
  });

  it('checks without running any part of the query on stored data: a probe answers the same whatever the data', async () => {
    // Analysing a query runs its scalar subqueries. Run on the stored rows, the first
    // would fail with "Division by zero" for one prefix and not the other, and the
    // second would print the email in its error.
    const probes = [
      (p: string) => `SELECT intDiv(1, (SELECT count() FROM default.users WHERE startsWith(email, '${p}')))`,
      (p: string) => `SELECT toInt32(assumeNotNull((SELECT email FROM default.users WHERE startsWith(email, '${p}') LIMIT 1)))`,
      (p: string) => `SELECT throwIf((SELECT count() FROM default.users WHERE startsWith(email, '${p}')) > 0)`,
    ];
    for (const probe of probes) {
      const [hit, miss] = await Promise.all([ask(ANALYST, probe('ann')), ask(ANALYST, probe('zzz'))]);
      expect(hit.code, hit.text).not.toBeNull();
      expect({ ...hit, text: hit.text.replaceAll("'ann'", "'zzz'") }).toEqual(miss);
      expect(hit.text).not.toMatch(/ann@example\.com/);
    }
  });

  it('refuses what it cannot follow: several statements, line breaks in names, EXPLAIN, filters of its own', async () => {
    const multi = await ask(ANALYST, 'SELECT 1; SELECT email FROM default.users');
    expect(multi.code).toBe('62');
    expect(multi.text).toMatch(/Multi-statements are not allowed/);
    await refused('SELECT e AS `a\nTABLE id: 3` FROM (SELECT email AS e FROM default.users)');
    await refused('EXPLAIN QUERY TREE SELECT (SELECT email FROM default.users LIMIT 1)');
    await refused('INSERT INTO default.users (id, email) VALUES (9, \'x\')');
    const filter = await ask(ANALYST, "SELECT id FROM default.users SETTINGS additional_table_filters = {'default.users': 'email != \\'\\''}");
    expect(filter.code).toBe('452');
    const param = await ask(ANALYST, 'SELECT id FROM default.users', { additional_table_filters: "{'default.users': 'email != '''''}" });
    expect(param.code).toBe('452');
    // A result filter is SQL run with every query, unchecked: its subquery would print the email.
    const result = await ask(ANALYST, 'SELECT 1', { additional_result_filter: 'toInt32(assumeNotNull((SELECT email FROM default.users LIMIT 1))) > 0' });
    expect(result.code).toBe('452');
    expect(result.text).not.toMatch(/ann@example\.com/);
  });
});

describe('the analyst still reads everything analytical', () => {
  it('the non-contact columns of default.users, and count()', async () => {
    expect(await ok(ANALYST, 'SELECT id, country, gender, age, _is_deleted, _lsn FROM default.users FINAL ORDER BY id')).toBe(
      '1\tDE\tf\t35\t0\t10\n2\tPL\tm\t45\t0\t11\n',
    );
    expect(await ok(ANALYST, 'SELECT count() FROM default.users')).toBe('2\n');
    expect(await ok(ANALYST, "SELECT count() FROM default.users WHERE country = 'DE' AND registered_at < now64(6)")).toBe('1\n');
    expect(await ok(ANALYST, 'SELECT u.id, count() FROM default.telemetry_events AS t JOIN default.users AS u ON u.id = t.user_id GROUP BY u.id ORDER BY u.id')).toBe(
      '1\t1\n2\t1\n',
    );
  });

  it('analytics, telemetry, the freshness view, the Join table through joinGet, kafka_errors without the raw message', async () => {
    expect(await ok(ANALYST, 'SELECT country, age_band FROM analytics.telemetry_enriched FINAL')).toBe('DE\t30-39\n');
    expect(await ok(ANALYST, 'SELECT muscle_group, count() FROM default.telemetry_events FINAL GROUP BY muscle_group ORDER BY 1')).toBe(
      'biceps\t1\ntriceps\t1\n',
    );
    expect(await ok(ANALYST, 'SELECT source_table, changes FROM debezium.freshness')).toBe('users\t2\n');
    expect(await ok(ANALYST, "SELECT joinGet('debezium.users_join', 'country', user_id) FROM default.telemetry_events WHERE id = 1")).toBe('DE\n');
    expect(await ok(ANALYST, 'SELECT topic, `offset`, error FROM debezium.kafka_errors')).toBe('crm.public.users\t7\tno after.email\n');
    expect(await ok(ANALYST, '(SELECT count() FROM default.users) UNION ALL (SELECT count() FROM default.telemetry_events)')).toMatch(/^2\n2\n$/);
  });

  it('system numbers and metadata, SHOW and DESCRIBE, settings in a session, readonly=1 and GET as the console and tools send them', async () => {
    expect(await ok(ANALYST, 'SELECT sum(number) FROM numbers(10)')).toBe('45\n');
    expect(await ok(ANALYST, 'SELECT number FROM system.numbers LIMIT 3 SETTINGS max_threads = 2')).toBe('0\n1\n2\n');
    expect(await ok(ANALYST, "SELECT name FROM system.columns WHERE database = 'default' AND table = 'users' AND name = 'email'")).toBe('email\n');
    expect(await ok(ANALYST, 'SHOW TABLES FROM debezium')).toMatch(/kafka_errors/);
    expect(await ok(ANALYST, 'DESCRIBE TABLE default.users')).toMatch(/^id\tInt32/);
    expect(await ok(ANALYST, 'SELECT id FROM default.users ORDER BY id FORMAT JSONEachRow')).toBe('{"id":1}\n{"id":2}\n');
    expect(await ok(ANALYST, 'SELECT count() FROM default.users', { readonly: '1', max_result_rows: '11', result_overflow_mode: 'break' })).toBe('2\n');
    const get = await ask(ANALYST, 'SELECT max(id) FROM default.users', {}, 'GET');
    expect(get.text).toBe('2\n');
    const s = { session_id: `grants-${process.pid}` };
    await ok(ANALYST, 'USE analytics', s);
    await ok(ANALYST, 'SET max_threads = 2', s);
    expect(await ok(ANALYST, "SELECT count(), getSetting('max_threads') FROM telemetry_enriched", s)).toBe('1\t2\n');
    await refused('SELECT email FROM default.users', undefined, s);
    expect(await ok(ANALYST, "KILL QUERY WHERE query_id = 'no-such-query' ASYNC")).toBe('');
  });
});

describe('the pipeline keeps full rights', () => {
  it('reads the contact columns, the raw events and through merge()', async () => {
    expect(await ok(PIPELINE, 'SELECT email, phone FROM default.users ORDER BY id')).toBe('ann@example.com\t+49 170 000\nbob@example.com\t\\N\n');
    expect(await ok(PIPELINE, 'SELECT raw_message FROM debezium.kafka_errors')).toMatch(/ann@example\.com/);
    expect(await ok(PIPELINE, "SELECT count() FROM merge('default', '^users$')")).toBe('2\n');
    expect(await ok(PIPELINE, 'SELECT email FROM default.users_contact WHERE id = 1')).toBe('ann@example.com\n');
  });
});

describe('reading grants', () => {
  it('applies GRANT and REVOKE in order, as partial revokes', () => {
    const g = parseGrants([
      'GRANT SELECT ON db.*',
      'REVOKE SELECT(a, `b.c`) ON db.t',
      'GRANT SELECT(a) ON db.t',
      'GRANT SELECT(x, `offset`) ON other.t WITH GRANT OPTION',
      'REVOKE SELECT ON db.secret;',
    ]);
    expect(g.canSelect('db', 't', 'a')).toBe(true);
    expect(g.canSelect('db', 't', 'b.c')).toBe(false);
    expect(g.canSelect('db', 't', 'z')).toBe(true);
    expect(g.canSelect('db', 'secret', 'z')).toBe(false);
    expect(g.canSelect('other', 't', 'offset')).toBe(true);
    expect(g.canSelect('other', 't', 'y')).toBe(false);
    expect(g.canSelect('other', 'u', 'x')).toBe(false);
    expect(g.canSelect('system', 'tables', 'name')).toBe(true);
    expect(g.canSelect('system', 'query_log', 'query')).toBe(false);
  });

  it('refuses to load what it could not enforce, naming the user and the statement', () => {
    const dir = mkdtempSync(join(tmpdir(), 'chdb-grants-file-'));
    try {
      const file = (grant: string, extra = ''): string => {
        const path = join(dir, 'users.yaml');
        writeFileSync(path, `users:\n  a:\n    password: x\n${extra}    grants:\n      query:\n        - ${grant}\n`);
        return path;
      };
      expect(() => loadUsers(file('GRANT INSERT ON db.*'), {})).toThrow(
        /users\.a\.grants: chdb-server enforces only SELECT grants, not INSERT in: GRANT INSERT ON db\.\*/,
      );
      expect(() => loadUsers(file('GRANT SELECT ON t'), {})).toThrow(/name the database/);
      expect(() => loadUsers(file('GRANT SELECT ON db.* TO b'), {})).toThrow(/no grantee/);
      expect(() => loadUsers(file('GRANT SELECT ON db.*', '    access_management: 1\n'), {})).toThrow(/access_management can't be specified with grants/);
      const a = loadUsers(file('GRANT SELECT ON db.*'), {}).authenticate({ user: 'a', password: 'x' });
      expect(a).toMatchObject({ name: 'a' });
      expect((a as { grants?: unknown }).grants).toBeDefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
