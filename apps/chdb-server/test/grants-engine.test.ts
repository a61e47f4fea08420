import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Session } from 'chdb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseGrants } from '../src/grants.js';
import { analystGrants, CASES, type Outcome, SCHEMA } from './grants-corpus.js';

/**
 * The analyst's grants as ClickHouse itself reads and enforces them. chDB can load
 * a users file at start, but runs every query as its `default` user: here that
 * user is given the analyst's grant statements from clickhouse/users.yaml (plus
 * CREATE and INSERT, to build the tables), so the engine's own access control
 * answers each query of the corpus, and its CHECK GRANT answers each column.
 * chdb-server must agree (grants.test.ts), except where it is stricter on purpose.
 */
let dir: string;
let engine: Session;

function xml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'chdb-grants-engine-'));
  const grants = [...analystGrants(), 'GRANT CREATE, INSERT ON *.*'].map((q) => `<query>${xml(q)}</query>`).join('');
  writeFileSync(
    join(dir, 'users.xml'),
    `<clickhouse><profiles><default/></profiles><quotas><default/></quotas><users><default><password></password>
       <networks><ip>::/0</ip></networks><profile>default</profile><quota>default</quota><grants>${grants}</grants>
     </default></users></clickhouse>`,
  );
  writeFileSync(join(dir, 'config.xml'), `<clickhouse><users_config>${xml(join(dir, 'users.xml'))}</users_config></clickhouse>`);
  // The first connection of this process decides the engine's configuration.
  engine = new Session(join(dir, 'data'), { connectionArgs: [`--config-file=${join(dir, 'config.xml')}`] });
  for (const sql of SCHEMA) await engine.queryAsync(sql);
}, 60_000);

afterAll(() => {
  engine?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function outcome(sql: string): Promise<Outcome | string> {
  try {
    await engine.queryAsync(sql, { format: 'TabSeparated' });
    return 'allowed';
  } catch (e) {
    const m = /Code: (\d+)\./.exec((e as Error).message);
    return m?.[1] === '497' ? 'denied' : (e as Error).message.slice(0, 300);
  }
}

describe('ClickHouse itself, as a user with the analyst’s grants', () => {
  it('reads the grants of clickhouse/users.yaml without complaint', async () => {
    expect(await outcome('SELECT 1')).toBe('allowed');
    expect(await outcome("CHECK GRANT SELECT(country) ON default.users")).toBe('allowed');
  });

  it.each(CASES.map((c) => [c.engine ?? c.server, c.sql] as const))('%s: %s', async (expected, sql) => {
    expect(await outcome(sql)).toBe(expected);
  });

  it("decides every column as chdb-server's reading of the same statements does", async () => {
    const grants = parseGrants(analystGrants());
    const columns = (await (await engine.queryAsync(
      "SELECT database, table, name FROM system.columns WHERE database IN ('default', 'analytics', 'debezium') ORDER BY ALL",
      { format: 'JSONEachRow' },
    )).text())
      .split('\n')
      .filter((l) => l.length > 0)
      .map((l) => JSON.parse(l) as { database: string; table: string; name: string });
    expect(columns.length).toBeGreaterThan(40);
    const disagree: string[] = [];
    for (const c of [...columns, { database: 'debezium', table: 'users_kafka', name: 'message' }, { database: 'other', table: 't', name: 'x' }]) {
      const r = await engine.queryAsync(`CHECK GRANT SELECT(\`${c.name}\`) ON \`${c.database}\`.\`${c.table}\``, { format: 'TabSeparated' });
      const theirs = r.text().trim() === '1';
      if (theirs !== grants.canSelect(c.database, c.table, c.name)) disagree.push(`${c.database}.${c.table}.${c.name}: engine ${theirs}`);
    }
    expect(disagree).toEqual([]);
  });
});
