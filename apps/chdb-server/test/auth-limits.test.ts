import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeBlocks, encodeBlock } from '../src/codec/native-blocks.js';
import type { RunningServer } from '../src/server.js';
import { connect, startTestServer } from './support.js';

/** A server with a password and a small body limit (its own process: one chDB data dir each). */
let server: RunningServer;
const LIMIT = 4096;

beforeAll(async () => {
  server = await startTestServer({
    CLICKHOUSE_USER: 'app',
    CLICKHOUSE_PASSWORD: 's3cret',
    CHDB_MAX_BODY_BYTES: String(LIMIT),
  });
}, 60_000);

afterAll(async () => {
  await server?.close();
}, 60_000);

const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('authentication', () => {
  it('rejects missing or wrong credentials with 516 / HTTP 401', async () => {
    const anonymous = connect(server.url);
    const wrong = connect(server.url, { username: 'app', password: 'nope' });
    try {
      await expect(anonymous.query({ query: 'SELECT 1' })).rejects.toMatchObject({
        code: '516',
        type: 'AUTHENTICATION_FAILED',
      });
      await expect(wrong.command({ query: 'SELECT 1' })).rejects.toMatchObject({ code: '516' });
    } finally {
      await Promise.all([anonymous.close(), wrong.close()]);
    }
    const res = await fetch(`${server.url}/?query=SELECT%201`);
    expect(res.status).toBe(401);
    expect(res.headers.get('x-clickhouse-exception-code')).toBe('516');
  });

  it('accepts Basic auth, X-ClickHouse-User/Key headers and user/password params', async () => {
    const client = connect(server.url, { username: 'app', password: 's3cret' });
    try {
      const rs = await client.query({ query: 'SELECT 7 AS x', format: 'JSONEachRow' });
      expect(await rs.json()).toEqual([{ x: 7 }]);
    } finally {
      await client.close();
    }
    const viaHeaders = await fetch(`${server.url}/?query=SELECT%201`, {
      headers: { 'X-ClickHouse-User': 'app', 'X-ClickHouse-Key': 's3cret' },
    });
    expect(await viaHeaders.text()).toBe('1\n');
    const viaParams = await fetch(`${server.url}/?query=SELECT%202&user=app&password=s3cret`);
    expect(await viaParams.text()).toBe('2\n');
    const wrongUser = await fetch(`${server.url}/?query=SELECT%201`, {
      headers: { Authorization: basic('default', 's3cret') },
    });
    expect(wrongUser.status).toBe(401);
  });

  it('still answers health checks without credentials', async () => {
    const client = connect(server.url);
    try {
      expect((await client.ping()).success).toBe(true);
    } finally {
      await client.close();
    }
  });
});

describe('request bodies', () => {
  const auth = { Authorization: basic('app', 's3cret') };

  it('answers 413 / QUERY_IS_TOO_LARGE beyond CHDB_MAX_BODY_BYTES', async () => {
    const res = await fetch(server.url, {
      method: 'POST',
      headers: auth,
      body: `SELECT '${'x'.repeat(LIMIT)}'`,
    });
    expect(res.status).toBe(413);
    expect(res.headers.get('x-clickhouse-exception-code')).toBe('229');
  });

  it('applies the limit after decompression too', async () => {
    const bomb = gzipSync(Buffer.from(`SELECT '${' '.repeat(LIMIT * 10)}'`));
    expect(bomb.length).toBeLessThan(LIMIT);
    const res = await fetch(server.url, {
      method: 'POST',
      headers: { ...auth, 'Content-Encoding': 'gzip' },
      body: bomb,
    });
    expect(res.status).toBe(413);
  });

  it('decompresses gzip, deflate and br request bodies', async () => {
    const zlib = await import('node:zlib');
    const sql = Buffer.from('SELECT 3');
    for (const [encoding, body] of [
      ['gzip', zlib.gzipSync(sql)],
      ['deflate', zlib.deflateSync(sql)],
      ['br', zlib.brotliCompressSync(sql)],
    ] as const) {
      const res = await fetch(server.url, {
        method: 'POST',
        headers: { ...auth, 'Content-Encoding': encoding },
        body,
      });
      expect(await res.text()).toBe('3\n');
    }
    const bad = await fetch(server.url, {
      method: 'POST',
      headers: { ...auth, 'Content-Encoding': 'gzip' },
      body: 'not gzip at all',
    });
    expect(bad.status).toBe(500);
    expect(await bad.text()).toContain('CANNOT_DECOMPRESS');
  });

  it('speaks ClickHouse native block compression both ways (compress=1, decompress=1)', async () => {
    const res = await fetch(`${server.url}/?query=SELECT%20number%20FROM%20numbers(3)&compress=1`, { headers: auth });
    expect(res.status).toBe(200);
    const raw = Buffer.from(await res.arrayBuffer());
    expect(raw[16]).toBe(0x82); // an LZ4 block after the 16-byte CityHash128
    expect(decodeBlocks(raw, LIMIT).toString()).toBe('0\n1\n2\n');
    const sent = await fetch(`${server.url}/?decompress=1`, {
      method: 'POST',
      headers: auth,
      body: encodeBlock(Buffer.from('SELECT 40 + 2')),
    });
    expect(await sent.text()).toBe('42\n');
    const corrupt = encodeBlock(Buffer.from('SELECT 1'));
    corrupt[3] = (corrupt[3] ?? 0) ^ 0xff;
    const bad = await fetch(`${server.url}/?decompress=1`, { method: 'POST', headers: auth, body: corrupt });
    expect(bad.headers.get('x-clickhouse-exception-code')).toBe('40');
  });
});
