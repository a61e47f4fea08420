import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { buildApp, countByEmail, deleteByEmails, KEY, uniqueEmail } from './support.js';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

const direct = buildApp();
const created: string[] = [];
let child: ChildProcess | undefined;

afterAll(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  await deleteByEmails(direct.db, created);
  await direct.db.close();
});

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const canConnect = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });

async function waitUntil(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('graceful shutdown (main.ts as its own process)', () => {
  it('SIGTERM stops accepting, lets the in-flight request finish, closes the port and exits 0', async () => {
    const port = await freePort();
    let output = '';
    child = spawn(process.execPath, ['--import', 'tsx', 'apps/crm-api/src/main.ts'], {
      cwd: REPO_ROOT,
      env: { ...process.env, CRM_API_PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));

    await waitUntil('the server to listen', async () => {
      try {
        return (await fetch(`http://127.0.0.1:${port}/health`)).ok;
      } catch {
        return false;
      }
    });

    // A request whose body is still arriving is in flight: the handler waits for it.
    const email = uniqueEmail('sigterm');
    created.push(email);
    const body = Buffer.from(JSON.stringify({ name: 'Drained', email }));
    const socket = net.connect(port, '127.0.0.1');
    let response = '';
    socket.on('data', (d: Buffer) => (response += d.toString()));
    const socketClosed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write(
      `POST /users HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${body.length}\r\nX-Request-Id: sigterm-drain\r\nAuthorization: ${KEY.headers.authorization}\r\n\r\n`,
    );
    socket.write(body.subarray(0, 10));
    await new Promise((r) => setTimeout(r, 300));

    const sentAt = Date.now();
    child.kill('SIGTERM');
    await waitUntil('the shutdown log line', () => output.includes('shutting down'), 5_000);
    // No longer accepting new connections, while the old one is still open.
    await waitUntil('the listener to close', async () => !(await canConnect(port)), 5_000);
    expect(child.exitCode).toBeNull();

    socket.write(body.subarray(10));
    const bodySentAt = Date.now();
    await waitUntil('the response', () => /\r\n\r\n\{.*\}$/s.test(response), 5_000);
    expect(Date.now() - bodySentAt).toBeLessThan(2_000);
    expect(response).toMatch(/^HTTP\/1\.1 201 /);
    expect(response).toMatch(/x-request-id: sigterm-drain/i);

    // The server keeps the answered connection until its keep-alive timeout (5 s)
    // or the grace period (10 s), whichever comes first, then closes the pool.
    await socketClosed;
    expect(await exited).toBe(0);
    expect(Date.now() - sentAt).toBeLessThan(10_000);
    expect(await canConnect(port)).toBe(false);
    expect(await countByEmail(direct.db, email)).toBe(1);
    // The pool was closed after the last request, then the process said so.
    expect(output).toMatch(/"msg":"stopped"/);
  }, 60_000);
});
