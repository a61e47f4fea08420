import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type RunningApp } from '../../tests/support/apps.js';

/** `npm run keys` against the tests' databases, its keys tried on a real CRM API. */
function keys(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/keys/cli.ts', ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

let crm: RunningApp;
beforeAll(async () => {
  // Keys read on every request, so revocation shows at once (the default trusts a key for 5 s).
  crm = await startApp('crm-api', { API_KEY_CACHE_MS: '0' });
}, 60_000);
afterAll(() => crm?.stop());

const status = async (token: string, path = '/users?limit=1', method = 'GET') =>
  (await fetch(`${crm.url}${path}`, { method, headers: { authorization: `Bearer ${token}` } })).status;

describe('npm run keys', () => {
  it('--help, and usage errors exit 2 without touching a database', () => {
    const help = keys('--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('users:write');
    for (const args of [[], ['frobnicate'], ['create', '--name', 'x'], ['create', '--name', 'x', '--scopes', 'users:admin'], ['list', '--bogus'], ['revoke'], ['revoke', 'nothex'], ['create', '--name', 'x', '--scopes', 'users:read', '--expires-in', '3 weeks'], ['list', '--overlap', '1h']]) {
      const r = keys(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(/^error: /);
      expect(r.stdout).toBe('');
    }
  });

  it('create prints the key alone on stdout; the key works within its scopes; list shows it without the secret', async () => {
    const created = keys('create', '--name', 'cli test', '--scopes', 'users:read');
    expect(created.code, created.stderr).toBe(0);
    const token = created.stdout.trim();
    expect(token).toMatch(/^cdc_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    expect(await status(token)).toBe(200);
    expect(await status(token, '/users/1', 'DELETE')).toBe(403);

    const listed = keys('list', '--json');
    expect(listed.code).toBe(0);
    const mine = (JSON.parse(listed.stdout) as { id: string; state: string; scopes: string[]; missing_in: string[] }[]).find((k) => token.includes(k.id));
    expect(mine).toMatchObject({ state: 'active', scopes: ['users:read'], missing_in: [] });
    expect(listed.stdout).not.toContain(token.slice(21));
  });

  it('rotate: the new key works at once, the old one until the overlap ends; revoke ends a key', async () => {
    const first = keys('create', '--name', 'rotating', '--scopes', 'users:read', '--json');
    const old = JSON.parse(first.stdout) as { id: string; key: string };
    const rotated = keys('rotate', old.id, '--overlap', '1h', '--json');
    expect(rotated.code, rotated.stderr).toBe(0);
    const next = JSON.parse(rotated.stdout) as { id: string; key: string; rotated_from: string };
    expect(next.rotated_from).toBe(old.id);
    expect([await status(old.key), await status(next.key)]).toEqual([200, 200]);

    const again = JSON.parse(keys('rotate', next.id, '--overlap', '0s', '--json').stdout) as { key: string };
    expect([await status(next.key), await status(again.key)]).toEqual([401, 200]);

    const revoked = keys('revoke', old.id);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(await status(old.key)).toBe(401);
    expect(keys('revoke', old.id).code).toBe(1);
    expect(keys('rotate', old.id).code).toBe(1);
  });

  it('a key created with --rate N gets 429 with Retry-After past N requests in a second', async () => {
    const token = keys('create', '--name', 'slow', '--scopes', 'users:read', '--rate', '3').stdout.trim();
    const answers = await Promise.all(Array.from({ length: 8 }, () => fetch(`${crm.url}/users?limit=1`, { headers: { authorization: `Bearer ${token}` } })));
    const statuses = answers.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 200).length).toBeLessThanOrEqual(3);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(5);
    const limited = answers.find((r) => r.status === 429)!;
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(limited.headers.get('content-type')).toBe('application/problem+json');
  });

  it('a key created with --expires-in stops working when it expires', async () => {
    const token = keys('create', '--name', 'brief', '--scopes', 'users:read', '--expires-in', '2s').stdout.trim();
    expect(await status(token)).toBe(200);
    await new Promise((r) => setTimeout(r, 2_500));
    expect(await status(token)).toBe(401);
  });

  it('fails with exit 1 and creates nothing anywhere when a database is unreachable', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/keys/cli.ts', 'create', '--name', 'orphan', '--scopes', 'users:read'], {
      encoding: 'utf8',
      env: { ...process.env, TELEMETRY_DATABASE_URL: 'postgresql://postgres:postgres@127.0.0.1:1/telemetry_db' },
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('telemetry_db');
    expect(r.stdout).toBe('');
    const listed = JSON.parse(keys('list', '--json').stdout) as { name: string }[];
    expect(listed.filter((k) => k.name === 'orphan')).toEqual([]);
  });
});
