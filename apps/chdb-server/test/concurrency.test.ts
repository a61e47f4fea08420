import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { type RunningServer, startServer } from '../src/server.js';
import { connect } from './support.js';

/**
 * Many clients, one server: parallel lanes, stopping queries (KILL QUERY, a
 * client going away, max_execution_time), sessions, and the users file with the
 * pipeline and a bounded read-only analyst.
 */
let server: RunningServer;
let dir: string;
const PIPELINE = { 'X-ClickHouse-User': 'pipeline', 'X-ClickHouse-Key': 'p1pe' };
const ANALYST = { 'X-ClickHouse-User': 'analyst', 'X-ClickHouse-Key': 'an4lyst' };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'chdb-concurrency-'));
  const users = join(dir, 'users.yaml');
  writeFileSync(
    users,
    `profiles:
  pipeline: { priority: 1 }
  analyst:
    readonly: 2
    priority: 10
    max_threads: 1
    max_execution_time: 60
    max_result_rows: 1000
    result_overflow_mode: throw
    max_concurrent_queries_for_user: 2
    constraints:
      max_execution_time: { max: 300 }
      max_threads: { max: 2 }
users:
  default: { '@remove': '1' }
  pipeline: { password: { '@from_env': TEST_PIPELINE_PASSWORD }, profile: pipeline }
  analyst: { password_sha256_hex: ${sha256('an4lyst')}, profile: analyst }
`,
  );
  process.env.TEST_PIPELINE_PASSWORD = 'p1pe';
  server = await startServer(
    loadConfig({ CHDB_DATA_PATH: join(dir, 'data'), CLICKHOUSE_HTTP_PORT: '0', LOG_LEVEL: 'silent', CHDB_USERS_FILE: users }),
  );
}, 60_000);

afterAll(async () => {
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 60_000);

function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

async function sql(
  query: string,
  opts: { params?: Record<string, string>; headers?: Record<string, string>; signal?: AbortSignal; method?: string } = {},
): Promise<{ status: number; text: string; headers: Headers }> {
  const url = new URL(server.url);
  for (const [k, v] of Object.entries(opts.params ?? {})) url.searchParams.set(k, v);
  const res = await fetch(url, {
    method: opts.method ?? 'POST',
    body: query,
    headers: opts.headers ?? PIPELINE,
    ...(opts.signal && { signal: opts.signal }),
  });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

async function running(): Promise<number> {
  const r = await sql("SELECT count() FROM system.processes WHERE query NOT LIKE '%system.processes%'");
  return Number(r.text.trim());
}

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('parallel lanes', () => {
  it('runs queries side by side, and a SELECT 1 answers while they run', async () => {
    const long = [1, 2, 3, 4].map(() => sql('SELECT sleep(2)'));
    await until(async () => (await running()) === 4, 'four queries running at once');
    const quick = await sql('SELECT 1');
    expect(quick.text).toBe('1\n');
    expect((await Promise.all(long)).map((r) => r.status)).toEqual([200, 200, 200, 200]);
  });

  it('parameterized queries do not wait for each other', async () => {
    const q = [1, 2, 3].map((i) => sql('SELECT sleep(2), {v:String}', { params: { param_v: `it\\'s ${i}` } }));
    await until(async () => (await running()) === 3, 'three parameterized queries running at once');
    const out = await Promise.all(q);
    expect(out.map((r) => r.text)).toEqual(["0\tit\\'s 1\n", "0\tit\\'s 2\n", "0\tit\\'s 3\n"]);
  });
});

describe('stopping a query', () => {
  it('KILL QUERY by the client query_id stops it, out of band', async () => {
    const long = sql('SELECT count() FROM system.numbers', { params: { query_id: 'kill-me-1' } });
    await until(async () => (await running()) === 1, 'the long query to start');
    const kill = await sql("KILL QUERY WHERE query_id = 'kill-me-1'");
    expect(kill.status).toBe(200);
    expect(kill.text).toContain('kill-me-1');
    const r = await long;
    expect(r.text).toMatch(/QUERY_WAS_CANCELLED|Code: 394/);
    expect(await running()).toBe(0);
  });

  it('an analyst can stop its own query but not the pipeline’s', async () => {
    const mine = sql('SELECT count() FROM system.numbers', { params: { query_id: 'analyst-q' }, headers: ANALYST });
    const theirs = sql('SELECT sleep(3)', { params: { query_id: 'pipeline-q' } });
    await until(async () => (await running()) === 2, 'both queries to start');
    const denied = await sql("KILL QUERY WHERE query_id = 'pipeline-q' FORMAT TabSeparated", { headers: ANALYST });
    expect(denied.text).toBe('');
    expect((await theirs).text).toBe('0\n');
    await sql("KILL QUERY WHERE query_id = 'analyst-q'", { headers: ANALYST });
    expect((await mine).text).toMatch(/Code: 394/);
  });

  it('a client that goes away stops its query', async () => {
    const controller = new AbortController();
    const gone = sql('SELECT count() FROM system.numbers', { signal: controller.signal }).catch((e: Error) => e);
    await until(async () => (await running()) === 1, 'the query to start');
    controller.abort();
    expect(await gone).toBeInstanceOf(Error);
    await until(async () => (await running()) === 0, 'the abandoned query to stop');
  });

  it('max_execution_time stops it at the limit with TIMEOUT_EXCEEDED', async () => {
    const r = await sql('SELECT count() FROM system.numbers', { params: { max_execution_time: '0.3' } });
    expect(r.status).toBe(408);
    expect(r.headers.get('x-clickhouse-exception-code')).toBe('159');
  });

  it('a failure after output began ends the body with the tagged exception', async () => {
    // node:http rather than fetch: it hands over every byte received before the
    // connection closed, and says whether the response was complete.
    const query = "SELECT number, sleepEachRow(0.001) FROM numbers(1000) WHERE throwIf(number = 900, 'late failure') = 0";
    const got = await new Promise<{ status: number; tag: string; body: string; complete: boolean }>((resolve, reject) => {
      const req = httpRequest(`${server.url}/?max_block_size=100`, { method: 'POST', headers: PIPELINE }, (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('close', () =>
          resolve({
            status: res.statusCode ?? 0,
            tag: String(res.headers['x-clickhouse-exception-tag']),
            body: Buffer.concat(parts).toString('utf8'),
            complete: res.complete,
          }),
        );
        res.on('error', () => undefined);
      });
      req.on('error', reject);
      req.end(query);
    });
    expect(got.status).toBe(200);
    expect(got.tag).toMatch(/^[0-9a-f]{16}$/);
    expect(got.body.startsWith('0\t0\n1\t0\n')).toBe(true);
    expect(got.body).toContain(`__exception__\r\n${got.tag}\r\n`);
    expect(got.body).toContain('late failure');
    // The body ends without its terminating chunk: every client sees a broken
    // response, whether or not it knows the exception block.
    expect(got.complete).toBe(false);
    // The next request sees nothing of it.
    expect((await sql('SELECT 42')).text).toBe('42\n');
  });
});

describe('sessions', () => {
  it('keeps SET and temporary tables inside its session_id, and only there', async () => {
    const s = { session_id: 'sess-a' };
    expect((await sql('SET max_threads = 3', { params: s })).status).toBe(200);
    expect((await sql("CREATE TEMPORARY TABLE t AS SELECT 'mine' AS x", { params: s })).status).toBe(200);
    expect((await sql("SELECT getSetting('max_threads'), x FROM t", { params: s })).text).toBe('3\tmine\n');
    expect((await sql("SELECT getSetting('max_threads')")).text).not.toBe('3\n');
    expect((await sql('SELECT x FROM t')).text).toMatch(/UNKNOWN_TABLE/);
    // A URL setting applies to that request only, even inside a session.
    expect((await sql("SELECT getSetting('max_threads')", { params: { ...s, max_threads: '5' } })).text).toBe('5\n');
    expect((await sql("SELECT getSetting('max_threads')", { params: s })).text).toBe('3\n');
  });

  it('takes the next request of a session as soon as the previous answer arrived, even while its URL settings are undone', async () => {
    // Several sessions at once keep the engine busy, so the undo takes long
    // enough for the client's next request to arrive in the middle of it.
    const one = async (session_id: string): Promise<void> => {
      for (let i = 0; i < 25; i++) {
        expect((await sql("SELECT getSetting('max_threads')", { params: { session_id, max_threads: '7' } })).text).toBe('7\n');
        const next = await sql('SELECT 1', { params: { session_id } });
        expect(next.headers.get('x-clickhouse-exception-code')).toBeNull();
        expect(next.text).toBe('1\n');
      }
    };
    await Promise.all(Array.from({ length: 8 }, (_, i) => one(`sess-seq-${i}`)));
  });

  it('refuses a second concurrent request in the same session (373) and unknown sessions with session_check (372)', async () => {
    const s = { session_id: 'sess-b' };
    const busy = sql('SELECT sleep(3)', { params: s });
    await until(async () => (await running()) === 1, 'the session query to start');
    const second = await sql('SELECT 1', { params: s });
    expect(second.headers.get('x-clickhouse-exception-code')).toBe('373');
    expect((await busy).status).toBe(200);
    const unknown = await sql('SELECT 1', { params: { session_id: 'nope', session_check: '1' } });
    expect(unknown.headers.get('x-clickhouse-exception-code')).toBe('372');
  });

  it('close_session ends it', async () => {
    const s = { session_id: 'sess-c' };
    await sql('SET max_threads = 2', { params: s });
    await sql('SELECT 1', { params: { ...s, close_session: '1' } });
    const after = await sql('SELECT 1', { params: { ...s, session_check: '1' } });
    expect(after.headers.get('x-clickhouse-exception-code')).toBe('372');
  });
});

describe('users', () => {
  it('refuses unknown users and wrong passwords with 516', async () => {
    const attempts: Array<Record<string, string>> = [
      { 'X-ClickHouse-User': 'nobody', 'X-ClickHouse-Key': 'x' },
      { 'X-ClickHouse-User': 'pipeline', 'X-ClickHouse-Key': 'wrong' },
      { 'X-ClickHouse-User': 'default', 'X-ClickHouse-Key': '' },
      {},
    ];
    for (const headers of attempts) {
      const r = await sql('SELECT 1', { headers });
      expect(r.headers.get('x-clickhouse-exception-code')).toBe('516');
    }
  });

  it('the analyst reads, within its profile, and cannot write or lift its limits', async () => {
    expect((await sql("SELECT getSetting('max_threads'), getSetting('readonly')", { headers: ANALYST })).text).toBe('1\t2\n');
    const write = await sql('CREATE TABLE nope (x UInt8) ENGINE = Memory', { headers: ANALYST });
    expect(write.headers.get('x-clickhouse-exception-code')).toBe('164');
    const lifted = await sql('SELECT 1', { headers: ANALYST, params: { max_execution_time: '1000' } });
    expect(lifted.headers.get('x-clickhouse-exception-code')).toBe('452');
    const inSql = await sql('SELECT 1 SETTINGS max_threads = 8', { headers: ANALYST });
    expect(inSql.headers.get('x-clickhouse-exception-code')).toBe('452');
    const rows = await sql('SELECT number FROM numbers(5000)', { headers: ANALYST });
    expect(rows.text).toMatch(/TOO_MANY_ROWS_OR_BYTES|Code: 396/);
    const inSession = await sql('CREATE TABLE nope (x UInt8) ENGINE = Memory', { headers: ANALYST, params: { session_id: 'analyst-s' } });
    expect(inSession.headers.get('x-clickhouse-exception-code')).toBe('164');
    // Lowering a limit is fine.
    expect((await sql('SELECT 1', { headers: ANALYST, params: { max_execution_time: '5' } })).text).toBe('1\n');
  });

  it('bounds how many queries the analyst runs at once (202)', async () => {
    const two = [1, 2].map(() => sql('SELECT sleep(3)', { headers: ANALYST }));
    await until(async () => (await running()) === 2, 'two analyst queries');
    const third = await sql('SELECT 1', { headers: ANALYST });
    expect(third.headers.get('x-clickhouse-exception-code')).toBe('202');
    expect((await sql('SELECT 1')).text).toBe('1\n');
    await Promise.all(two);
  });
});

describe('HTTP surface', () => {
  it('404 for unknown paths; /play is a self-contained page; /replicas_status is Ok.', async () => {
    const unknown = await fetch(`${server.url}/dashboard?query=SELECT%201`);
    expect(unknown.status).toBe(404);
    expect(await unknown.text()).toContain('There is no handle /dashboard');
    const play = await fetch(`${server.url}/play`);
    const html = await play.text();
    expect(play.headers.get('content-type')).toMatch(/text\/html/);
    expect(html).toContain('<textarea');
    expect(html).not.toMatch(/(src|href)="https?:/);
    expect(await (await fetch(`${server.url}/replicas_status`)).text()).toBe('Ok.\n');
  });

  it('streams a large result in chunks, without Content-Length', async () => {
    const res = await fetch(`${server.url}/?query=${encodeURIComponent('SELECT number FROM numbers(3000000)')}`, { headers: PIPELINE });
    expect(res.headers.get('content-length')).toBeNull();
    expect(res.headers.get('transfer-encoding')).toBe('chunked');
    let lines = 0;
    for await (const c of res.body as unknown as AsyncIterable<Uint8Array>) {
      for (const b of c) if (b === 10) lines++;
    }
    expect(lines).toBe(3_000_000);
  });

  it('takes a statement and CRLF CSV, or RowBinary, in one body', async () => {
    await sql('CREATE TABLE one_body (id UInt32, name String) ENGINE = MergeTree ORDER BY id');
    const csv = await sql('INSERT INTO one_body FORMAT CSV\r\n1,"a"\r\n2,"b"\r\n');
    expect(csv.status).toBe(200);
    expect(JSON.parse(csv.headers.get('x-clickhouse-summary') ?? '{}').written_rows).toBe('2');
    const row = Buffer.concat([Buffer.from([3, 0, 0, 0]), Buffer.from([1]), Buffer.from('c')]);
    const res = await fetch(server.url, {
      method: 'POST',
      headers: PIPELINE,
      body: Buffer.concat([Buffer.from('INSERT INTO one_body FORMAT RowBinary\n'), row]),
    });
    expect(res.status).toBe(200);
    expect((await sql('SELECT id, name FROM one_body ORDER BY id')).text).toBe('1\ta\n2\tb\n3\tc\n');
  });

  it('@clickhouse/client: abort stops the query; streaming reads rows as they come', async () => {
    const client = connect(server.url, { username: 'pipeline', password: 'p1pe' });
    try {
      const controller = new AbortController();
      const q = client.query({ query: 'SELECT count() FROM system.numbers', abort_signal: controller.signal });
      await until(async () => (await running()) === 1, 'the query to start');
      controller.abort();
      await expect(q).rejects.toThrow();
      await until(async () => (await running()) === 0, 'the aborted query to stop');
      const rs = await client.query({ query: 'SELECT number FROM numbers(200000)', format: 'JSONCompactEachRow' });
      let n = 0;
      for await (const rows of rs.stream()) n += rows.length;
      expect(n).toBe(200_000);
    } finally {
      await client.close();
    }
  });

  it('@clickhouse/client: a session_id keeps SET and temporary tables across its queries', async () => {
    const opts = { username: 'pipeline', password: 'p1pe' };
    const inSession = connect(server.url, { ...opts, session_id: 'js-session' });
    const other = connect(server.url, opts);
    try {
      await inSession.command({ query: 'SET max_threads = 2' });
      await inSession.command({ query: "CREATE TEMPORARY TABLE notes AS SELECT 'kept' AS note" });
      const rows = await (await inSession.query({ query: "SELECT getSetting('max_threads') AS t, note FROM notes", format: 'JSONEachRow' })).json();
      expect(rows).toEqual([{ t: 2, note: 'kept' }]);
      await expect(other.query({ query: 'SELECT note FROM notes' })).rejects.toMatchObject({ code: '60' });
    } finally {
      await Promise.all([inSession.close(), other.close()]);
    }
  });
});
