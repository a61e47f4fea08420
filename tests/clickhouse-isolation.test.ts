import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { Agent, request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { constants as zlibConstants, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeBlocks } from '../apps/chdb-server/src/codec/native-blocks.js';
import { loadConfig } from '../apps/chdb-server/src/config.js';
import { type RunningServer, startServer } from '../apps/chdb-server/src/server.js';
import { mulberry32 } from '../scripts/import/generator.js';
import { seedFrom } from './support/seed.js';

/**
 * The ClickHouse endpoint under many clients at once. Every request carries a
 * token of its own inside its output, so any byte of another request's answer
 * is caught: each response must be exactly what its request alone gives (its
 * formula below), or, for a request that fails mid-output, a prefix of that
 * followed by its own error. Sessions must see only their own settings and
 * temporary tables.
 */
const SEED = seedFrom('CLICKHOUSE_ISOLATION_SEED', 20261207);
const REQUESTS = Number(process.env.CLICKHOUSE_ISOLATION_REQUESTS ?? 10_000);
const CLIENTS = 16;

type Format = 'TabSeparated' | 'CSV' | 'JSONEachRow' | 'JSONCompactEachRow' | 'RowBinary';
const FORMATS: Format[] = ['TabSeparated', 'CSV', 'JSONEachRow', 'JSONCompactEachRow', 'RowBinary'];

function varint(n: number): Buffer {
  const out: number[] = [];
  let v = n;
  do {
    let b = v & 0x7f;
    v >>>= 7;
    if (v) b |= 0x80;
    out.push(b);
  } while (v);
  return Buffer.from(out);
}

/** The bytes `SELECT toUInt32(number) AS n, concat(token, toString(number)) AS s FROM numbers(rows)` gives. */
function expected(format: Format, token: string, rows: number, delimiter = ','): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < rows; i++) {
    const s = `${token}${i}`;
    switch (format) {
      case 'TabSeparated':
        parts.push(Buffer.from(`${i}\t${s}\n`));
        break;
      case 'CSV':
        parts.push(Buffer.from(`${i}${delimiter}"${s}"\n`));
        break;
      case 'JSONEachRow':
        parts.push(Buffer.from(`{"n":${i},"s":"${s}"}\n`));
        break;
      case 'JSONCompactEachRow':
        parts.push(Buffer.from(`[${i}, "${s}"]\n`));
        break;
      case 'RowBinary': {
        const n = Buffer.alloc(4);
        n.writeUInt32LE(i);
        parts.push(n, varint(Buffer.byteLength(s)), Buffer.from(s));
        break;
      }
    }
  }
  return Buffer.concat(parts);
}

const EXCEPTION_MARK = Buffer.from('__exception__\r\n');

interface Stats {
  ok: number;
  failedMidOutput: number;
  failedBeforeOutput: number;
  disconnected: number;
  session: number;
  kinds: Record<string, number>;
}

let server: RunningServer;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'chdb-isolation-'));
  server = await startServer(loadConfig({ CHDB_DATA_PATH: dir, CLICKHOUSE_HTTP_PORT: '0', LOG_LEVEL: 'silent' }));
}, 60_000);

afterAll(async () => {
  agent.destroy();
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 60_000);

interface Answer {
  status: number;
  body: Buffer;
  /** False when the connection closed before the response's end (a failure after output began). */
  complete: boolean;
}

const agent = new Agent({ keepAlive: true, maxSockets: 64 });

/**
 * node:http rather than fetch: it hands over every byte that arrived before a
 * connection closed mid-response, which is how a failure after output began ends.
 */
function post(params: Record<string, string>, body: string, headers: Record<string, string> = {}, abortAfterFirst = false): Promise<Answer> {
  const url = new URL(server.url);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: 'POST', headers, agent }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => {
        parts.push(c);
        if (abortAfterFirst) req.destroy();
      });
      res.on('error', () => undefined);
      res.on('close', () => {
        let raw = Buffer.concat(parts);
        if (res.headers['content-encoding'] === 'gzip' && raw.length > 0) {
          raw = gunzipSync(raw, { finishFlush: zlibConstants.Z_SYNC_FLUSH });
        }
        resolve({ status: res.statusCode ?? 0, body: raw, complete: res.complete });
      });
    });
    req.on('error', (e) => (abortAfterFirst ? undefined : reject(e)));
    req.end(body);
  });
}

/** The native blocks are ours to undo (HTTP's gzip is undone in post()). */
function decode(raw: Buffer, native: boolean): Buffer {
  return native && raw.length > 0 ? decodeBlocks(raw, 1 << 30) : raw;
}

/** Checks a body that may end in the in-band exception: the part before must be a prefix of `full`. */
function splitException(body: Buffer): { data: Buffer; error: string | undefined } {
  const at = body.indexOf(EXCEPTION_MARK);
  if (at === -1) return { data: body, error: undefined };
  return { data: body.subarray(0, at), error: body.subarray(at).toString('utf8') };
}

describe('isolation under concurrency', () => {
  it(
    `${REQUESTS} requests from ${CLIENTS} clients: every answer is its own (seed ${SEED})`,
    async () => {
      const random = mulberry32(SEED);
      const stats: Stats = { ok: 0, failedMidOutput: 0, failedBeforeOutput: 0, disconnected: 0, session: 0, kinds: {} };
      const problems: string[] = [];
      let next = 0;

      async function one(client: number, seq: number): Promise<void> {
        const token = `c${client}r${seq}x${Math.floor(random() * 1e9).toString(36)}-`;
        const pick = random();
        const format = FORMATS[Math.floor(random() * FORMATS.length)] as Format;
        const gzip = random() < 0.3;
        const native = random() < 0.2;
        const params: Record<string, string> = { default_format: format };
        if (gzip) params.enable_http_compression = '1';
        if (native) params.compress = '1';
        const headers: Record<string, string> = gzip ? { 'Accept-Encoding': 'gzip' } : {};
        const rows = 1 + Math.floor(random() * 3000);
        const blockSize = 1 + Math.floor(random() * 700);
        const select = `SELECT toUInt32(number) AS n, concat('${token}', toString(number)) AS s FROM numbers(${rows})`;
        const kind =
          pick < 0.45 ? 'ok' : pick < 0.6 ? 'late-exception' : pick < 0.7 ? 'timeout' : pick < 0.8 ? 'disconnect' : pick < 0.9 ? 'settings' : 'session';
        stats.kinds[kind] = (stats.kinds[kind] ?? 0) + 1;
        const fail = (msg: string): void => {
          problems.push(`${kind} ${format} ${token}: ${msg}`);
        };

        if (kind === 'ok' || kind === 'settings') {
          const delimiter = kind === 'settings' && format === 'CSV' ? ';' : ',';
          if (kind === 'settings') {
            params.max_block_size = String(blockSize);
            if (format === 'CSV') params.format_csv_delimiter = delimiter;
            params.max_threads = String(1 + Math.floor(random() * 2));
          }
          const res = await post(params, select, headers);
          const body = decode(res.body, native);
          if (res.status !== 200 || !res.complete) return fail(`status ${res.status} complete ${res.complete}: ${body.toString().slice(0, 200)}`);
          if (!body.equals(expected(format, token, rows, delimiter))) return fail(`body differs (${body.length} bytes)`);
          stats.ok++;
          return;
        }

        if (kind === 'late-exception' || kind === 'timeout') {
          const failAt = Math.floor(rows / 2);
          const sql =
            kind === 'late-exception'
              ? `SELECT toUInt32(number) AS n, concat('${token}', toString(number)) AS s FROM numbers(${rows}) ` +
                `WHERE throwIf(number = ${failAt}, 'stop-${token}') = 0 SETTINGS max_block_size = ${Math.max(1, Math.floor(failAt / 4))}`
              : `SELECT toUInt32(number) AS n, concat('${token}', toString(number)) AS s FROM numbers(100000) ` +
                `WHERE sleepEachRow(0.0005) = 0 SETTINGS max_block_size = 20, max_execution_time = 0.15, timeout_overflow_mode = 'throw'`;
          const res = await post(params, sql, headers);
          const body = decode(res.body, native);
          const fullRows = kind === 'late-exception' ? rows : 100000;
          const full = expected(format, token, fullRows);
          const ownError = kind === 'late-exception' ? `stop-${token}` : 'TIMEOUT_EXCEEDED';
          if (res.status !== 200) {
            const text = body.toString('utf8');
            if (!text.includes(ownError)) return fail(`error status ${res.status} without its own error: ${text.slice(0, 200)}`);
            stats.failedBeforeOutput++;
            return;
          }
          const { data, error } = splitException(body);
          if (error === undefined) return fail('a failing query answered 200 without an exception');
          if (res.complete) return fail('a failing query answered a complete 200 response');
          if (!error.includes(ownError)) return fail(`foreign exception: ${error.slice(0, 200)}`);
          if (!full.subarray(0, data.length).equals(data)) return fail('output before the exception is not its own prefix');
          stats.failedMidOutput++;
          return;
        }

        if (kind === 'disconnect') {
          const sql = `SELECT toUInt32(number) AS n, concat('${token}', toString(number)) AS s FROM numbers(100000000) SETTINGS max_block_size = 1000`;
          const got = (await post({ default_format: format }, sql, {}, true)).body;
          const full = expected(format, token, Math.min(100000, 1 + got.length));
          if (!full.subarray(0, got.length).equals(got)) return fail('first bytes are not its own');
          stats.disconnected++;
          return;
        }

        // session: its own SET and temporary table, seen only by itself.
        const sessionId = `s-${token}`;
        const threads = String(1 + Math.floor(random() * 8));
        const sp = { session_id: sessionId, session_timeout: '30' };
        const steps: Array<[string, string]> = [
          [`SET max_threads = ${threads}`, ''],
          [`CREATE TEMPORARY TABLE mine AS SELECT '${token}' AS t`, ''],
          [`SELECT getSetting('max_threads'), t FROM mine FORMAT TabSeparated`, `${threads}\t${token}\n`],
        ];
        for (const [sql, want] of steps) {
          const res = await post(sp, sql);
          const text = res.body.toString('utf8');
          if (res.status !== 200) return fail(`session step failed ${res.status}: ${text.slice(0, 200)}`);
          if (text !== want) return fail(`session answer ${JSON.stringify(text.slice(0, 100))} != ${JSON.stringify(want)}`);
        }
        await post({ ...sp, close_session: '1' }, 'SELECT 1');
        stats.session++;
      }

      await Promise.all(
        Array.from({ length: CLIENTS }, async (_, client) => {
          for (let seq = next++; seq < REQUESTS; seq = next++) await one(client, seq);
        }),
      );

      // Nothing keeps running once its client is gone.
      let running = '';
      for (let i = 0; i < 50; i++) {
        const res = await post({}, "SELECT count() FROM system.processes WHERE query NOT LIKE '%system.processes%'");
        running = res.body.toString('utf8').trim();
        if (running === '0') break;
        await new Promise((r) => setTimeout(r, 100));
      }

      const failing = stats.failedMidOutput + stats.failedBeforeOutput + stats.disconnected;
      console.log(
        `[isolation] seed ${SEED}: ${REQUESTS} requests, ${CLIENTS} clients; ok ${stats.ok}, ` +
          `failed mid-output ${stats.failedMidOutput}, failed before output ${stats.failedBeforeOutput}, ` +
          `client disconnects ${stats.disconnected}, sessions ${stats.session}; kinds ${JSON.stringify(stats.kinds)}`,
      );
      expect(problems.slice(0, 20)).toEqual([]);
      expect(failing / REQUESTS).toBeGreaterThanOrEqual(0.2);
      expect(running).toBe('0');
    },
    600_000,
  );
});
