import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

/** The real entry point, as `npm start` runs it: config from env, signals, exit codes. */
const appDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const cleanup: Array<() => void> = [];

afterEach(() => {
  for (const fn of cleanup.splice(0)) fn();
});

function launch(env: Record<string, string>): { child: ChildProcess; exit: Promise<number | null> } {
  const { CHDB_DATA_PATH: _, CHDB_USERS_FILE: __, ...inherited } = process.env;
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: appDir,
    // No users file and no password: one passwordless `default` user, as a fresh server has.
    env: { ...inherited, LOG_LEVEL: 'info', CLICKHOUSE_USER: 'default', CLICKHOUSE_PASSWORD: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  cleanup.push(() => child.kill('SIGKILL'));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exit };
}

function listeningUrl(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      const entry = JSON.parse(line) as { msg?: string; url?: string };
      if (entry.msg === 'listening' && entry.url) resolve(entry.url);
    });
    child.once('exit', (code) => reject(new Error(`exited with ${code} before listening`)));
  });
}

describe('main', () => {
  it('SIGTERM lets the in-flight query finish, then exits 0', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chdb-server-main-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const { child, exit } = launch({ CHDB_DATA_PATH: dir, CLICKHOUSE_HTTP_PORT: '0' });
    const url = await listeningUrl(child);

    const slow = fetch(url, { method: 'POST', body: 'SELECT sleep(2), 42' }).then((r) => r.text());
    // Long enough for the request to be in the server; the query still has >1 s to go.
    await new Promise((r) => setTimeout(r, 600));
    child.kill('SIGTERM');

    expect(await slow).toBe('0\t42\n');
    expect(await exit).toBe(0);
    await expect(fetch(`${url}/ping`)).rejects.toThrow();
  }, 60_000);

  it('exits 1 with a readable message when the config is invalid', async () => {
    const { child, exit } = launch({ CLICKHOUSE_HTTP_PORT: 'not-a-port' });
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    expect(await exit).toBe(1);
    expect(stderr).toContain('Invalid chdb-server configuration');
    expect(stderr).toContain('CHDB_DATA_PATH');
    expect(stderr).toContain('CLICKHOUSE_HTTP_PORT');
  }, 30_000);
});
