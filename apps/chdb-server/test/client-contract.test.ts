import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { type ClickHouseClient, ClickHouseError, type QueryParams, TupleParam } from '@clickhouse/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../src/server.js';
import { INFILE_FROM_BYTES } from '../src/executor.js';
import { connect, startTestServer } from './support.js';

/**
 * The contract: what @clickhouse/client (and curl) do against a ClickHouse
 * server must work, byte for byte where it matters, against chdb-server.
 */
let server: RunningServer;
let client: ClickHouseClient;

beforeAll(async () => {
  server = await startTestServer();
  client = connect(server.url);
}, 60_000);

afterAll(async () => {
  await client?.close();
  await server?.close();
}, 60_000);

async function json<T>(
  query: string,
  options: Pick<QueryParams, 'query_params' | 'clickhouse_settings'> = {},
): Promise<T[]> {
  const rs = await client.query({ ...options, query, format: 'JSONEachRow' });
  return rs.json<T>();
}

describe('health', () => {
  it('answers ping, /ping and a bare GET / with Ok.', async () => {
    expect((await client.ping()).success).toBe(true);
    expect((await client.ping({ select: true })).success).toBe(true);
    for (const path of ['/ping', '/']) {
      const res = await fetch(`${server.url}${path}`);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe('Ok.\n');
    }
    const head = await fetch(`${server.url}/ping`, { method: 'HEAD' });
    expect(head.status).toBe(200);
  });
});

describe('query formats', () => {
  it('JSONEachRow', async () => {
    const rows = await json<{ n: string; s: string }>(
      'SELECT number AS n, toString(number * 2) AS s FROM numbers(3)',
    );
    expect(rows.map((r) => [Number(r.n), r.s])).toEqual([
      [0, '0'],
      [1, '2'],
      [2, '4'],
    ]);
  });

  it('JSON, with meta and row count', async () => {
    const rs = await client.query({ query: 'SELECT 1 AS one, \'x\' AS s', format: 'JSON' });
    const doc = await rs.json<{ one: number; s: string }>();
    expect(doc.meta).toEqual([
      { name: 'one', type: 'UInt8' },
      { name: 's', type: 'String' },
    ]);
    expect(doc.data).toEqual([{ one: 1, s: 'x' }]);
    expect(doc.rows).toBe(1);
  });

  it('TabSeparated and CSV', async () => {
    const sql = "SELECT number, concat('v', toString(number)) FROM numbers(2)";
    const tsv = await client.query({ query: sql, format: 'TabSeparated' });
    expect(await tsv.text()).toBe('0\tv0\n1\tv1\n');
    const csv = await client.query({ query: sql, format: 'CSV' });
    expect(await csv.text()).toBe('0,"v0"\n1,"v1"\n');
  });
});

describe('query_params', () => {
  it('binds strings with quotes, escapes and unicode, numbers, arrays, dates, maps, tuples, nulls', async () => {
    const tricky = "it's a\ttab,\na newline, a \\ backslash, ünïcødé 🌍 and 'quotes'";
    const [row] = await json<Record<string, unknown>>(
      `SELECT {s:String} AS s, {n:UInt64} AS n, {i:Int32} AS i, {f:Float64} AS f,
              {arr:Array(String)} AS arr, {d:DateTime} AS d, {b:Bool} AS b,
              {nul:Nullable(String)} AS nul, {m:Map(String, UInt8)} AS m, {t:Tuple(Int32, String)} AS t`,
      {
        query_params: {
          s: tricky,
          n: 12345678901,
          i: -42,
          f: 1.5,
          arr: ["a'b", 'c\\d', 'e\nf'],
          d: new Date('2024-01-02T03:04:05Z'),
          b: true,
          nul: null,
          m: { k: 7 },
          t: new TupleParam([3, "x'y"]),
        },
      },
    );
    expect(row).toEqual({
      s: tricky,
      n: expect.anything(),
      i: -42,
      f: 1.5,
      arr: ["a'b", 'c\\d', 'e\nf'],
      d: '2024-01-02 03:04:05',
      b: true,
      nul: null,
      m: { k: 7 },
      t: [3, "x'y"],
    });
    expect(Number(row?.n)).toBe(12345678901);
  });

  it('holds max_query_size to the text as sent, not to the text with the values bound (as ClickHouse does)', async () => {
    // 60,000 numbers used twice: ~800 KB once bound, against the default limit of 262,144.
    const xs = Array.from({ length: 60_000 }, (_, i) => 1_000_000_000 + i);
    const query = 'SELECT length({xs:Array(UInt32)}) AS n, arraySum({xs:Array(UInt32)}) % 1000 AS s';
    expect(await json(query, { query_params: { xs } })).toEqual([{ n: 60_000, s: xs.reduce((a, b) => a + b, 0) % 1000 }]);
    // In a session, the raised limit lasts for that request only.
    const session = connect(server.url, { session_id: `qsize-${Date.now()}` });
    try {
      const rs = await session.query({ query, format: 'JSONEachRow', query_params: { xs } });
      expect(await rs.json()).toEqual([{ n: 60_000, s: expect.any(Number) }]);
      const limit = await session.query({ query: "SELECT getSetting('max_query_size') AS v", format: 'JSONEachRow' });
      expect(await limit.json()).toEqual([{ v: 262_144 }]);
    } finally {
      await session.close();
    }
    // A text over the limit as sent is still refused.
    await expect(
      json(`SELECT {x:UInt8} AS x /* ${'-'.repeat(1000)} */`, { query_params: { x: 1 }, clickhouse_settings: { max_query_size: '500' } }),
    ).rejects.toMatchObject({ code: '62' });
  });

  it('binds params sent as multipart/form-data', async () => {
    const multipart = connect(server.url, { use_multipart_params: true });
    try {
      const rs = await multipart.query({
        query: 'SELECT {a:String} AS a, length({xs:Array(UInt8)}) AS n',
        format: 'JSONEachRow',
        query_params: { a: "multi'part", xs: [1, 2, 3] },
      });
      expect(await rs.json()).toEqual([{ a: "multi'part", n: 3 }]);
    } finally {
      await multipart.close();
    }
  });
});

describe('insert, command, exec', () => {
  it('creates and drops a table with command', async () => {
    await client.command({ query: 'CREATE TABLE cmd_t (a UInt8) ENGINE = MergeTree ORDER BY a' });
    expect(await json('EXISTS TABLE cmd_t')).toEqual([{ result: 1 }]);
    await client.command({ query: 'DROP TABLE cmd_t' });
    expect(await json('EXISTS TABLE cmd_t')).toEqual([{ result: 0 }]);
  });

  it('inserts JSONEachRow into MergeTree and reads it back, unicode and newlines intact', async () => {
    await client.command({
      query: 'CREATE TABLE people (id UInt32, name String, note String) ENGINE = MergeTree ORDER BY id',
    });
    const rows = [
      { id: 1, name: 'Zoë 🌍', note: 'plain' },
      { id: 2, name: 'Ødegaard', note: 'line1\nline2\ttabbed "quoted" \\ back' },
      { id: 3, name: '日本語', note: '' },
    ];
    const result = await client.insert({ table: 'people', values: rows, format: 'JSONEachRow' });
    expect(result.executed).toBe(true);
    expect(result.summary?.written_rows).toBe('3');
    expect(await json('SELECT id, name, note FROM people ORDER BY id')).toEqual(rows);
  });

  it('inserts a TabSeparated stream and an empty batch', async () => {
    await client.command({ query: 'CREATE TABLE tsv_t (a UInt32, s String) ENGINE = MergeTree ORDER BY a' });
    const result = await client.insert({
      table: 'tsv_t',
      values: Readable.from(['1\tone\n2\ttwo\n'], { objectMode: false }),
      format: 'TabSeparated',
    });
    expect(result.summary?.written_rows).toBe('2');
    const empty = await client.insert({ table: 'tsv_t', values: Readable.from([], { objectMode: false }), format: 'TabSeparated' });
    expect(empty.summary?.written_rows).toBe('0');
    expect(await json('SELECT a, s FROM tsv_t ORDER BY a')).toEqual([
      { a: 1, s: 'one' },
      { a: 2, s: 'two' },
    ]);
  });

  it('a large text body (over INFILE_FROM_BYTES) lands whole, with its settings applied', async () => {
    await client.command({
      query: "CREATE TABLE big_t (a UInt32, s String, ts DateTime64(3, 'UTC')) ENGINE = MergeTree ORDER BY a",
    });
    const n = 20_000;
    const rows = Array.from({ length: n }, (_, i) => ({ a: i, s: `row ${i}\ttab "q" ${'x'.repeat(i % 50)}`, ts: '2026-12-07T10:00:00.125Z' }));
    expect(Buffer.byteLength(rows.map((r) => JSON.stringify(r)).join('\n'))).toBeGreaterThan(INFILE_FROM_BYTES);
    const result = await client.insert({
      table: 'big_t',
      values: rows,
      format: 'JSONEachRow',
      // The ISO timestamps need best_effort: a setting the file path must keep.
      clickhouse_settings: { date_time_input_format: 'best_effort' },
    });
    expect(result.summary?.written_rows).toBe(String(n));
    const [check] = await json<{ c: number; sum_a: number; bad: number; ts: string }>(
      `SELECT count() AS c, sum(a) AS sum_a, countIf(s != concat('row ', toString(a), '\\ttab "q" ', repeat('x', a % 50))) AS bad,
              toString(any(ts)) AS ts FROM big_t`,
    );
    expect(check).toEqual({ c: n, sum_a: (n * (n - 1)) / 2, bad: 0, ts: '2026-12-07 10:00:00.125' });
  });

  it('refuses INSERT … SELECT … FROM input() (the engine would write nothing) and writes nothing', async () => {
    await client.command({ query: 'CREATE TABLE input_t (a UInt32, b UInt32) ENGINE = MergeTree ORDER BY a' });
    const err = await client
      .exec({ query: "INSERT INTO input_t SELECT a, a * 2 FROM input('a UInt32') FORMAT TabSeparated", values: Readable.from(['1\n2\n']) })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClickHouseError);
    expect((err as ClickHouseError).code).toBe('48');
    expect((err as Error).message).toMatch(/input\(\)/);
    expect(await json('SELECT count() AS c FROM input_t')).toEqual([{ c: 0 }]);
  });

  it('exec returns the raw response stream', async () => {
    const { stream, query_id } = await client.exec({ query: 'SELECT 40 + 2 AS x FORMAT JSONEachRow' });
    let text = '';
    for await (const chunk of stream) text += String(chunk);
    expect(text).toBe('{"x":42}\n');
    expect(query_id).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('errors', () => {
  it('a syntax error is a ClickHouseError with code 62 / SYNTAX_ERROR', async () => {
    // Not 'SELEC 1': that message contains "(SELEC)", which clickhouse-js's
    // error regex takes for the type, against a real server just the same.
    const err = await client.query({ query: 'SELECT (1' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClickHouseError);
    expect(err).toMatchObject({ code: '62', type: 'SYNTAX_ERROR' });
  });

  it('an unknown table is code 60 / UNKNOWN_TABLE, also from insert', async () => {
    await expect(client.query({ query: 'SELECT * FROM no_such_table' })).rejects.toMatchObject({
      code: '60',
      type: 'UNKNOWN_TABLE',
    });
    await expect(
      client.insert({ table: 'no_such_table', values: [{ a: 1 }], format: 'JSONEachRow' }),
    ).rejects.toMatchObject({ code: '60' });
  });

  it('raw responses carry the status and X-ClickHouse-Exception-Code', async () => {
    const res = await fetch(`${server.url}/?query=${encodeURIComponent('SELECT * FROM nope')}`);
    expect(res.status).toBe(404);
    expect(res.headers.get('x-clickhouse-exception-code')).toBe('60');
    expect(await res.text()).toMatch(/^Code: 60\. DB::Exception: .*\(UNKNOWN_TABLE\)\n$/s);
    const syntax = await fetch(server.url, { method: 'POST', body: 'SELEC 1' });
    expect(syntax.status).toBe(400);
    const empty = await fetch(server.url, { method: 'POST', body: '' });
    expect(empty.status).toBe(400);
    expect(await empty.text()).toContain('Empty query');
  });
});

describe('settings are per request', () => {
  const tenRows = 'SELECT number FROM numbers(10)';

  it('clickhouse_settings apply to that request only', async () => {
    await expect(
      client
        .query({
          query: tenRows,
          format: 'JSONEachRow',
          clickhouse_settings: { max_result_rows: '2', result_overflow_mode: 'throw' },
        })
        .then((rs) => rs.json()),
    ).rejects.toMatchObject({ code: '396', type: 'TOO_MANY_ROWS_OR_BYTES' });

    const truncated = await json<unknown>(tenRows, {
      clickhouse_settings: { max_result_rows: '2', result_overflow_mode: 'break', max_block_size: '1' },
    });
    expect(truncated.length).toBeLessThan(10);

    expect(await json(tenRows)).toHaveLength(10);
    expect(
      await json(
        "SELECT getSetting('max_result_rows') AS r, getSetting('result_overflow_mode') AS m, getSetting('readonly') AS ro",
      ),
    ).toEqual([{ r: 0, m: 'throw', ro: 0 }]);
  });

  it('a SET statement inside the SQL does not outlive its request', async () => {
    await client.command({ query: 'SET max_result_rows = 1' });
    expect(await json(tenRows)).toHaveLength(10);
  });

  it('an unknown setting is UNKNOWN_SETTING and leaves nothing behind', async () => {
    await expect(
      client.query({ query: 'SELECT 1', clickhouse_settings: { no_such_setting: 1 } as never }),
    ).rejects.toMatchObject({ code: '115' });
    expect(await json(tenRows)).toHaveLength(10);
  });
});

describe('database option', () => {
  it('runs in the client database and switches back afterwards', async () => {
    await client.command({ query: 'CREATE DATABASE app_db' });
    await client.command({ query: 'CREATE TABLE app_db.items (id UInt32) ENGINE = MergeTree ORDER BY id' });
    const db = connect(server.url, { database: 'app_db' });
    try {
      await db.insert({ table: 'items', values: [{ id: 1 }, { id: 2 }], format: 'JSONEachRow' });
      expect(await (await db.query({ query: 'SELECT currentDatabase() AS d, count() AS c FROM items', format: 'JSONEachRow' })).json()).toEqual([
        { d: 'app_db', c: expect.anything() },
      ]);
      expect(await json('SELECT currentDatabase() AS d')).toEqual([{ d: 'default' }]);
      expect(await json('SELECT count() AS c FROM app_db.items')).toEqual([{ c: 2 }]);
    } finally {
      await db.close();
    }
    await client.command({ query: 'USE app_db' });
    expect(await json('SELECT currentDatabase() AS d')).toEqual([{ d: 'default' }]);
    const viaHeader = await fetch(`${server.url}/?query=SELECT%20currentDatabase()`, {
      headers: { 'X-ClickHouse-Database': 'app_db' },
    });
    expect(await viaHeader.text()).toBe('app_db\n');
    const missing = connect(server.url, { database: 'no_such_db' });
    try {
      await expect(missing.query({ query: 'SELECT 1' })).rejects.toMatchObject({ code: '81' });
    } finally {
      await missing.close();
    }
  });
});

describe('raw HTTP', () => {
  it('GET /?query=SELECT%201 returns 1 and the ClickHouse headers', async () => {
    const res = await fetch(`${server.url}/?query=SELECT%201&query_id=my-id`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('1\n');
    expect(res.headers.get('x-clickhouse-query-id')).toBe('my-id');
    expect(res.headers.get('x-clickhouse-format')).toBe('TabSeparated');
    expect(res.headers.get('content-type')).toBe('text/tab-separated-values; charset=UTF-8');
    expect(res.headers.get('x-clickhouse-timezone')).toMatch(/UTC/);
    const summary = JSON.parse(res.headers.get('x-clickhouse-summary') ?? '{}');
    expect(summary).toMatchObject({ result_rows: '1', written_rows: '0' });
    for (const v of Object.values(summary)) expect(typeof v).toBe('string');
  });

  it('binds param_<name> URL params', async () => {
    const res = await fetch(
      `${server.url}/?query=${encodeURIComponent('SELECT {x:UInt8} + 1, {s:String}')}&param_x=41&param_s=${encodeURIComponent("a\\tb'c")}`,
    );
    // The wire value `a\tb'c` means a<TAB>b'c; TabSeparated output escapes both.
    expect(await res.text()).toBe("42\ta\\tb\\'c\n");
  });

  it('a FORMAT clause wins over default_format, and the headers say so', async () => {
    const res = await fetch(
      `${server.url}/?default_format=CSV&query=${encodeURIComponent('SELECT 1 AS x FORMAT JSONEachRow')}`,
    );
    expect(await res.text()).toBe('{"x":1}\n');
    expect(res.headers.get('x-clickhouse-format')).toBe('JSONEachRow');
    expect(res.headers.get('content-type')).toBe('application/json; charset=UTF-8');
    const csv = await fetch(`${server.url}/?default_format=CSV&query=SELECT%20'a'`);
    expect(await csv.text()).toBe('"a"\n');
  });

  it('GET is read-only: it cannot INSERT, but may use settings', async () => {
    await client.command({ query: 'CREATE TABLE ro_t (a UInt8) ENGINE = MergeTree ORDER BY a' });
    const res = await fetch(`${server.url}/?query=${encodeURIComponent('INSERT INTO ro_t VALUES (1)')}`);
    expect(res.status).toBe(500);
    expect(res.headers.get('x-clickhouse-exception-code')).toBe('164');
    expect(await res.text()).toContain('readonly');
    const withSetting = await fetch(`${server.url}/?query=SELECT%202&max_threads=1`);
    expect(await withSetting.text()).toBe('2\n');
    // readonly did not stick to the session
    const post = await fetch(`${server.url}/?query=${encodeURIComponent('INSERT INTO ro_t VALUES (1)')}`, {
      method: 'POST',
    });
    expect(post.status).toBe(200);
    expect(JSON.parse(post.headers.get('x-clickhouse-summary') ?? '{}').written_rows).toBe('1');
  });

  it('binary INSERT bodies (RowBinary, Native, Parquet) arrive whole, not just their first block', async () => {
    await client.command({ query: 'CREATE TABLE bin_t (a UInt64, s String) ENGINE = MergeTree ORDER BY a' });
    for (const format of ['RowBinary', 'Native', 'Parquet']) {
      await client.command({ query: 'TRUNCATE TABLE bin_t' });
      // ~1.4 MB of rows, made by the engine itself in that format.
      const body = Buffer.from(
        await (await fetch(`${server.url}/?query=${encodeURIComponent(`SELECT number AS a, toString(number) AS s FROM numbers(100000) FORMAT ${format}`)}`)).arrayBuffer(),
      );
      const res = await fetch(`${server.url}/?query=${encodeURIComponent(`INSERT INTO bin_t FORMAT ${format}`)}`, { method: 'POST', body });
      expect(res.status, `${format}: ${await res.clone().text()}`).toBe(200);
      expect(JSON.parse(res.headers.get('x-clickhouse-summary') ?? '{}').written_rows, format).toBe('100000');
      const [got] = await json<{ n: number; total: number; top: string }>('SELECT count() AS n, sum(a) AS total, max(s) AS top FROM bin_t');
      expect({ n: Number(got!.n), total: Number(got!.total), top: got!.top }, format).toEqual({ n: 100_000, total: 4_999_950_000, top: '99999' });
    }
  });

  it('INSERT data after the query param, as curl sends it', async () => {
    await client.command({ query: 'CREATE TABLE curl_t (a UInt8, s String) ENGINE = MergeTree ORDER BY a' });
    const res = await fetch(
      `${server.url}/?query=${encodeURIComponent('INSERT INTO curl_t FORMAT CSV')}`,
      { method: 'POST', body: '1,"multi\nline"\n2,b\n' },
    );
    expect(res.status).toBe(200);
    expect(JSON.parse(res.headers.get('x-clickhouse-summary') ?? '{}').written_rows).toBe('2');
    const values = await fetch(`${server.url}/?query=${encodeURIComponent('INSERT INTO curl_t VALUES')}`, {
      method: 'POST',
      body: "(3, 'c'), (4, 'd')",
    });
    expect(values.status).toBe(200);
    expect(await json('SELECT a, s FROM curl_t ORDER BY a')).toEqual([
      { a: 1, s: 'multi\nline' },
      { a: 2, s: 'b' },
      { a: 3, s: 'c' },
      { a: 4, s: 'd' },
    ]);
  });

  it('refuses multipart file parts (external tables) with a clear 400', async () => {
    const form = new FormData();
    form.append('query', 'SELECT * FROM ext');
    form.append('ext', new Blob(['1\n2\n']), 'ext.tsv');
    const res = await fetch(server.url, { method: 'POST', body: form });
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/external data tables.*not supported/);
  });
});

describe('compression', () => {
  it('works with the client compressing requests and responses', async () => {
    const gz = connect(server.url, { compression: { request: true, response: true } });
    try {
      await gz.command({ query: 'CREATE TABLE gz_t (a UInt32) ENGINE = MergeTree ORDER BY a' });
      const values = Array.from({ length: 500 }, (_, a) => ({ a }));
      const ins = await gz.insert({ table: 'gz_t', values, format: 'JSONEachRow' });
      expect(ins.summary?.written_rows).toBe('500');
      const rs = await gz.query({ query: 'SELECT a FROM gz_t ORDER BY a', format: 'JSONEachRow' });
      expect(await rs.json()).toEqual(values);
      await expect(gz.query({ query: 'SELEC 1' })).rejects.toMatchObject({ code: '62' });
    } finally {
      await gz.close();
    }
  });

  it('gzips the response when asked, and not when enable_http_compression=0', async () => {
    const url = `${server.url}/?query=${encodeURIComponent('SELECT number FROM numbers(100)')}`;
    const raw = await new Promise<{ encoding: string | undefined; body: Buffer }>((resolve, reject) => {
      import('node:http').then(({ get }) =>
        get(url, { headers: { 'Accept-Encoding': 'gzip' } }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({ encoding: res.headers['content-encoding'], body: Buffer.concat(chunks) }),
          );
        }).on('error', reject),
      );
    });
    expect(raw.encoding).toBe('gzip');
    expect(gunzipSync(raw.body).toString().split('\n')).toHaveLength(101);
    const off = await fetch(`${url}&enable_http_compression=0`, { headers: { 'Accept-Encoding': 'gzip' } });
    expect(off.headers.get('content-encoding')).toBeNull();
  });
});

describe('table engines', () => {
  it('ReplacingMergeTree(version, is_deleted) with FINAL returns the latest non-deleted rows', async () => {
    await client.command({
      query: `CREATE TABLE rmt (id UInt32, name String, version UInt64, is_deleted UInt8)
              ENGINE = ReplacingMergeTree(version, is_deleted) ORDER BY id`,
    });
    const insert = (values: object[]) => client.insert({ table: 'rmt', values, format: 'JSONEachRow' });
    await insert([
      { id: 1, name: 'a', version: 1, is_deleted: 0 },
      { id: 2, name: 'b', version: 1, is_deleted: 0 },
      { id: 3, name: 'c', version: 5, is_deleted: 0 },
    ]);
    await insert([
      { id: 1, name: 'a2', version: 2, is_deleted: 0 },
      { id: 2, name: 'b', version: 2, is_deleted: 1 },
    ]);
    await insert([{ id: 3, name: 'c-stale', version: 4, is_deleted: 0 }]);
    expect(await json('SELECT id, name FROM rmt FINAL ORDER BY id')).toEqual([
      { id: 1, name: 'a2' },
      { id: 3, name: 'c' },
    ]);
  });
});

describe('concurrency', () => {
  it('20 parallel inserts and selects all succeed and the counts add up', async () => {
    await client.command({ query: 'CREATE TABLE conc (w UInt32, i UInt32) ENGINE = MergeTree ORDER BY (w, i)' });
    const clients = Array.from({ length: 4 }, () => connect(server.url, { max_open_connections: 10 }));
    try {
      const work = Array.from({ length: 20 }, (_, w) => {
        const c = clients[w % clients.length] as ClickHouseClient;
        return Promise.all([
          c.insert({
            table: 'conc',
            values: Array.from({ length: 50 }, (_, i) => ({ w, i })),
            format: 'JSONEachRow',
          }),
          c
            .query({
              query: 'SELECT count() AS c FROM conc',
              format: 'JSONEachRow',
              clickhouse_settings: { max_threads: 1 },
            })
            .then((rs) => rs.json<{ c: number }>()),
        ]);
      });
      const results = await Promise.all(work);
      for (const [ins, sel] of results) {
        expect(ins.summary?.written_rows).toBe('50');
        expect(sel[0]?.c).toBeGreaterThanOrEqual(0);
      }
      expect(await json('SELECT count() AS c, uniqExact(w) AS ws FROM conc')).toEqual([{ c: 1000, ws: 20 }]);
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
  });
});
