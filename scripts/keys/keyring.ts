import { generateKey, type Scope } from '@cdc/auth';
import type { Endpoints } from '@cdc/config';
import { createPool } from '@cdc/db';
import { createApiKeyStore, type ApiKeyRecord } from '@cdc/db/api-keys';
import type pg from 'pg';

/**
 * API keys across every database that checks them. Each API reads keys from its own
 * database (docs/security.md), so a key lives in both: issued, revoked and rotated in
 * both, or the command fails saying which database did not take the change.
 */
export interface KeyDatabase {
  name: string;
  pool: pg.Pool;
}

/** Both databases that hold keys, each on a small pool of its own; close with closeKeyDatabases. */
export function openKeyDatabases(env: Pick<Endpoints, 'CRM_DATABASE_URL' | 'TELEMETRY_DATABASE_URL'>, max = 1): KeyDatabase[] {
  const pool = (url: string) => createPool(url, { max, connectionTimeoutMillis: 5_000 });
  return [
    { name: 'crm_db', pool: pool(env.CRM_DATABASE_URL) },
    { name: 'telemetry_db', pool: pool(env.TELEMETRY_DATABASE_URL) },
  ];
}

export async function closeKeyDatabases(dbs: KeyDatabase[]): Promise<void> {
  await Promise.all(dbs.map((d) => d.pool.end()));
}

export interface IssueOptions {
  name: string;
  scopes: Scope[];
  /** null: the API's default rate; 0: unlimited. */
  ratePerSecond: number | null;
  expiresAt: Date | null;
  rotatedFrom?: string;
}

export interface IssuedKey {
  record: ApiKeyRecord;
  /** Shown once; only its hash is stored. */
  token: string;
}

export class KeyringError extends Error {
  override name = 'KeyringError';
}

/**
 * Inserts the key in one transaction per database and commits them only once every
 * insert has succeeded, so an unreachable database leaves the key nowhere.
 */
export async function issueKey(dbs: KeyDatabase[], opts: IssueOptions): Promise<IssuedKey> {
  const key = generateKey();
  const clients: pg.PoolClient[] = [];
  try {
    let record: ApiKeyRecord | undefined;
    for (const db of dbs) {
      const client = await db.pool.connect().catch((err: Error) => {
        throw new KeyringError(`${db.name}: ${err.message}; the key was not created anywhere`);
      });
      clients.push(client);
      await client.query('BEGIN');
      record = await createApiKeyStore(client).insert({
        id: key.id,
        name: opts.name,
        secretSha256: key.secretSha256,
        scopes: opts.scopes,
        ratePerSecond: opts.ratePerSecond,
        expiresAt: opts.expiresAt,
        rotatedFrom: opts.rotatedFrom ?? null,
      });
    }
    for (const c of clients) await c.query('COMMIT');
    return { record: record!, token: key.token };
  } catch (err) {
    await Promise.all(clients.map((c) => c.query('ROLLBACK').catch(() => undefined)));
    throw err;
  } finally {
    for (const c of clients) c.release();
  }
}

export interface ListedKey extends ApiKeyRecord {
  /** The databases holding this key (every one, unless a change reached only some). */
  in: string[];
}

export async function listKeys(dbs: KeyDatabase[]): Promise<ListedKey[]> {
  const byId = new Map<string, ListedKey>();
  for (const db of dbs) {
    for (const k of await createApiKeyStore(db.pool).list()) {
      const seen = byId.get(k.id);
      if (seen) {
        seen.in.push(db.name);
        // Where the databases disagree, show the more restrictive state.
        seen.revokedAt ??= k.revokedAt;
        if (k.expiresAt && (!seen.expiresAt || k.expiresAt < seen.expiresAt)) seen.expiresAt = k.expiresAt;
      } else byId.set(k.id, { ...k, in: [db.name] });
    }
  }
  return [...byId.values()].sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a.id.localeCompare(b.id));
}

export type KeyState = 'active' | 'revoked' | 'expired' | 'expiring';

export function keyState(k: Pick<ApiKeyRecord, 'revokedAt' | 'expiresAt'>, now = new Date()): KeyState {
  if (k.revokedAt && k.revokedAt <= now) return 'revoked';
  if (k.expiresAt && k.expiresAt <= now) return 'expired';
  return k.expiresAt ? 'expiring' : 'active';
}

/** Revokes in every database; the databases where it had nothing to revoke are reported. */
export async function revokeKey(dbs: KeyDatabase[], id: string): Promise<{ revoked: string[]; unchanged: string[] }> {
  const out = { revoked: [] as string[], unchanged: [] as string[] };
  for (const db of dbs) (await createApiKeyStore(db.pool).revoke(id) ? out.revoked : out.unchanged).push(db.name);
  if (out.revoked.length === 0) {
    const known = await findLive(dbs, id).catch(() => undefined);
    if (!known) throw new KeyringError(`no key ${id} that is not revoked already`);
  }
  return out;
}

async function findLive(dbs: KeyDatabase[], id: string): Promise<ApiKeyRecord | undefined> {
  const k = await createApiKeyStore(dbs[0]!.pool).find(id);
  return k && keyState(k) !== 'revoked' && keyState(k) !== 'expired' ? k : undefined;
}

/**
 * A new key with the old one's name, scopes and rate; the old one keeps working for
 * `overlapMs` (so its holders can switch without an outage), then expires.
 */
export async function rotateKey(dbs: KeyDatabase[], id: string, overlapMs: number): Promise<{ issued: IssuedKey; oldExpiresAt: Date }> {
  const old = await findLive(dbs, id);
  if (!old) throw new KeyringError(`no live key ${id} to rotate (unknown, revoked or expired)`);
  const issued = await issueKey(dbs, {
    name: old.name,
    scopes: old.scopes as Scope[],
    ratePerSecond: old.ratePerSecond,
    expiresAt: old.expiresAt,
    rotatedFrom: old.id,
  });
  const at = new Date(Date.now() + overlapMs);
  for (const db of dbs) await createApiKeyStore(db.pool).expireAt(id, at);
  return { issued, oldExpiresAt: old.expiresAt && old.expiresAt < at ? old.expiresAt : at };
}
