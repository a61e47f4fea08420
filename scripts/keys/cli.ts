/**
 * API keys for the CRM and Telemetry APIs (docs/security.md):
 *
 *   npm run keys -- create --name NAME --scopes S1,S2 [--rate N] [--expires-in 30d] [--json]
 *   npm run keys -- list [--json]
 *   npm run keys -- revoke ID [--json]
 *   npm run keys -- rotate ID [--overlap 24h] [--json]
 *
 * create and rotate print the new key alone on stdout (KEY=$(npm run -s keys -- create …))
 * and what it is on stderr; it is shown once, only its hash is stored.
 * Exit codes: 0 done, 1 refused or a database failed, 2 usage.
 */
import { parseArgs } from 'node:util';
import { ALL_SCOPES, isKeyId, SCOPES, scopeList } from '@cdc/auth';
import { loadDotEnv, loadEndpoints } from '@cdc/config';
import { closeKeyDatabases, issueKey, keyState, KeyringError, listKeys, openKeyDatabases, revokeKey, rotateKey, type KeyDatabase } from './keyring.js';

const USAGE = `usage: npm run keys -- <command> [options]

  create --name NAME --scopes S1,S2 [--rate N] [--expires-in D] [--json]
      a new key; --rate requests per second (0: unlimited; unset: the API's default),
      --expires-in a duration such as 90s, 15m, 24h, 30d (unset: never)
  list [--json]
      every key, without secrets
  revoke ID [--json]
      the key stops working (within API_KEY_CACHE_MS, 5 s by default)
  rotate ID [--overlap D] [--json]
      a new key with the same name, scopes and rate; the old one works for --overlap
      more (default 24h; 0 ends it now)

scopes:
${ALL_SCOPES.map((s) => `  ${s.padEnd(16)} ${SCOPES[s]}`).join('\n')}`;

const EXIT = { OK: 0, FAILED: 1, USAGE: 2 } as const;

class UsageError extends Error {}

const DURATION = /^(\d+)(s|m|h|d)$/;
function duration(flag: string, v: string): number {
  const m = DURATION.exec(v);
  if (!m) throw new UsageError(`${flag} expects a duration such as 90s, 15m, 24h or 30d, got ${JSON.stringify(v)}`);
  return Number(m[1]) * { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 's' | 'm' | 'h' | 'd'];
}

const OPTIONS = {
  name: { type: 'string' },
  scopes: { type: 'string' },
  rate: { type: 'string' },
  'expires-in': { type: 'string' },
  overlap: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

const ALLOWED: Record<string, (keyof typeof OPTIONS)[]> = {
  create: ['name', 'scopes', 'rate', 'expires-in', 'json'],
  list: ['json'],
  revoke: ['json'],
  rotate: ['overlap', 'json'],
};

function parse(argv: string[]) {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) return { help: true as const };
  const [command, ...rest] = positionals;
  if (!command) throw new UsageError('give a command: create, list, revoke or rotate');
  const allowed = ALLOWED[command];
  if (!allowed) throw new UsageError(`unknown command ${JSON.stringify(command)}`);
  for (const k of Object.keys(values) as (keyof typeof OPTIONS)[]) {
    if (!allowed.includes(k)) throw new UsageError(`--${k} does not apply to ${command}`);
  }
  const wantsId = command === 'revoke' || command === 'rotate';
  if (rest.length !== (wantsId ? 1 : 0)) throw new UsageError(wantsId ? `${command} takes one key id` : `${command} takes no arguments`);
  if (wantsId && !isKeyId(rest[0]!)) throw new UsageError(`${JSON.stringify(rest[0])} is not a key id (16 hex digits, as npm run keys -- list shows)`);
  return {
    help: false as const,
    command,
    id: rest[0],
    json: values.json === true,
    // Everything a command needs is checked here, before any database is reached.
    create: command === 'create' ? createOptions(values) : undefined,
    overlapMs: command === 'rotate' ? duration('--overlap', values.overlap ?? '24h') : undefined,
  };
}

type Command = Exclude<ReturnType<typeof parse>, { help: true }>;

function createOptions(v: { name?: string; scopes?: string; rate?: string; 'expires-in'?: string }) {
  if (!v.name || v.name.length > 100) throw new UsageError('create needs --name, 1 to 100 characters');
  if (!v.scopes) throw new UsageError('create needs --scopes');
  const scopes = scopeList.safeParse(v.scopes);
  if (!scopes.success) throw new UsageError(`--scopes: ${scopes.error.issues.map((i) => i.message).join('; ')}`);
  let rate: number | null = null;
  if (v.rate !== undefined) {
    if (!/^\d{1,7}$/.test(v.rate)) throw new UsageError(`--rate expects whole requests per second (0: unlimited), got ${JSON.stringify(v.rate)}`);
    rate = Number(v.rate);
  }
  const expiresAt = v['expires-in'] === undefined ? null : new Date(Date.now() + duration('--expires-in', v['expires-in']));
  return { name: v.name, scopes: scopes.data, ratePerSecond: rate, expiresAt };
}

const iso = (d: Date | null) => d?.toISOString() ?? null;

async function run(cmd: Command, dbs: KeyDatabase[]): Promise<void> {
  const json = cmd.json;
  const out = (o: unknown): void => void process.stdout.write(`${JSON.stringify(o, null, 2)}\n`);
  switch (cmd.command) {
    case 'create': {
      const { record, token } = await issueKey(dbs, cmd.create!);
      if (json) return out({ id: record.id, name: record.name, scopes: record.scopes, rate_per_second: record.ratePerSecond, expires_at: iso(record.expiresAt), key: token });
      process.stderr.write(`created key ${record.id} "${record.name}" with ${record.scopes.join(', ')}; it is shown once:\n`);
      process.stdout.write(`${token}\n`);
      return;
    }
    case 'list': {
      const keys = await listKeys(dbs);
      const rows = keys.map((k) => ({
        id: k.id,
        name: k.name,
        scopes: k.scopes,
        rate_per_second: k.ratePerSecond,
        state: keyState(k),
        created_at: iso(k.createdAt),
        expires_at: iso(k.expiresAt),
        revoked_at: iso(k.revokedAt),
        rotated_from: k.rotatedFrom,
        missing_in: dbs.map((d) => d.name).filter((n) => !k.in.includes(n)),
      }));
      if (json) return out(rows);
      for (const r of rows) {
        const when = r.state === 'revoked' ? ` ${r.revoked_at}` : r.expires_at ? ` until ${r.expires_at}` : '';
        const missing = r.missing_in.length ? `  (missing in ${r.missing_in.join(', ')}: run revoke)` : '';
        process.stdout.write(`${r.id}  ${r.state}${when}  ${r.name}  ${r.scopes.join(',')}  rate ${r.rate_per_second ?? 'default'}${missing}\n`);
      }
      if (rows.length === 0) process.stderr.write('no keys yet: npm run keys -- create --name NAME --scopes …\n');
      return;
    }
    case 'revoke': {
      const r = await revokeKey(dbs, cmd.id!);
      if (json) return out({ id: cmd.id, ...r });
      process.stderr.write(`revoked ${cmd.id} in ${r.revoked.join(', ')}${r.unchanged.length ? ` (already revoked or absent in ${r.unchanged.join(', ')})` : ''}\n`);
      return;
    }
    case 'rotate': {
      const { issued, oldExpiresAt } = await rotateKey(dbs, cmd.id!, cmd.overlapMs!);
      if (json) return out({ id: issued.record.id, rotated_from: cmd.id, old_expires_at: oldExpiresAt.toISOString(), key: issued.token });
      process.stderr.write(`key ${issued.record.id} replaces ${cmd.id}, which works until ${oldExpiresAt.toISOString()}; the new key is shown once:\n`);
      process.stdout.write(`${issued.token}\n`);
      return;
    }
  }
}

async function main(argv: string[]): Promise<number> {
  let cmd: ReturnType<typeof parse>;
  try {
    cmd = parse(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`error: ${err.message}\n\n${USAGE}\n`);
    return EXIT.USAGE;
  }
  if (cmd.help) {
    process.stdout.write(`${USAGE}\n`);
    return EXIT.OK;
  }
  loadDotEnv();
  const env = loadEndpoints();
  const dbs = openKeyDatabases(env, 2);
  try {
    await run(cmd, dbs);
    return EXIT.OK;
  } catch (err) {
    process.stderr.write(`error: ${err instanceof KeyringError ? err.message : (err as Error).stack ?? String(err)}\n`);
    return EXIT.FAILED;
  } finally {
    await closeKeyDatabases(dbs);
  }
}

main(process.argv.slice(2)).then((code) => process.exit(code));
