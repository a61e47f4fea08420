import type pg from 'pg';

/** A row of auth.api_keys (migration 20261207120000_api_keys_audit, in both databases). */
export interface ApiKeyRecord {
  id: string;
  name: string;
  secretSha256: Buffer;
  scopes: string[];
  /** Requests per second; null: the API's default; 0: unlimited. */
  ratePerSecond: number | null;
  createdAt: Date;
  expiresAt: Date | null;
  revokedAt: Date | null;
  rotatedFrom: string | null;
}

export type NewApiKeyRecord = Omit<ApiKeyRecord, 'createdAt' | 'revokedAt'>;

const COLUMNS = `id, name, secret_sha256, scopes, rate_per_second, created_at, expires_at, revoked_at, rotated_from`;

interface Row {
  id: string;
  name: string;
  secret_sha256: Buffer;
  scopes: string[];
  rate_per_second: number | null;
  created_at: Date;
  expires_at: Date | null;
  revoked_at: Date | null;
  rotated_from: string | null;
}

const toRecord = (r: Row): ApiKeyRecord => ({
  id: r.id,
  name: r.name,
  secretSha256: r.secret_sha256,
  scopes: r.scopes,
  ratePerSecond: r.rate_per_second,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  revokedAt: r.revoked_at,
  rotatedFrom: r.rotated_from,
});

type Queryable = Pick<pg.Pool | pg.PoolClient, 'query'>;

/** auth.api_keys of one database, in plain SQL: the table is outside Prisma's schema. */
export interface ApiKeyStore {
  find(id: string): Promise<ApiKeyRecord | undefined>;
  list(): Promise<ApiKeyRecord[]>;
  insert(key: NewApiKeyRecord): Promise<ApiKeyRecord>;
  /** Revokes now; false when there is no such key or it was revoked already. */
  revoke(id: string): Promise<boolean>;
  /** Lets the key work until `at` (rotation's overlap); false when there is no live such key. */
  expireAt(id: string, at: Date): Promise<boolean>;
}

export function createApiKeyStore(db: Queryable): ApiKeyStore {
  return {
    async find(id) {
      const { rows } = await db.query<Row>({
        name: 'api_keys_find',
        text: `SELECT ${COLUMNS} FROM auth.api_keys WHERE id = $1`,
        values: [id],
      });
      return rows[0] && toRecord(rows[0]);
    },
    async list() {
      const { rows } = await db.query<Row>(`SELECT ${COLUMNS} FROM auth.api_keys ORDER BY created_at, id`);
      return rows.map(toRecord);
    },
    async insert(k) {
      const { rows } = await db.query<Row>(
        `INSERT INTO auth.api_keys (id, name, secret_sha256, scopes, rate_per_second, expires_at, rotated_from)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${COLUMNS}`,
        [k.id, k.name, k.secretSha256, k.scopes, k.ratePerSecond, k.expiresAt, k.rotatedFrom],
      );
      return toRecord(rows[0]!);
    },
    async revoke(id) {
      const r = await db.query(`UPDATE auth.api_keys SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL`, [id]);
      return r.rowCount === 1;
    },
    async expireAt(id, at) {
      const r = await db.query(
        `UPDATE auth.api_keys SET expires_at = LEAST(coalesce(expires_at, $2), $2)
          WHERE id = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())`,
        [id, at],
      );
      return r.rowCount === 1;
    },
  };
}

/**
 * One entry of auth.audit_log. `detail` names what changed (field names, counts),
 * never values, so the log holds no personal data.
 */
export interface AuditEntry {
  keyId: string;
  requestId: string | null;
  action: string;
  target: string | null;
  detail: Record<string, unknown>;
}

/** Who asked for a write: the key and the request, as the API knows them. */
export type WriteBy = Pick<AuditEntry, 'keyId' | 'requestId'>;

/** The INSERT of an entry, for a caller that runs it inside the write's own transaction. */
export const AUDIT_INSERT = `INSERT INTO auth.audit_log (key_id, request_id, action, target, detail) VALUES ($1, $2, $3, $4, $5::jsonb)`;

export const auditValues = (e: AuditEntry): unknown[] => [e.keyId, e.requestId, e.action, e.target, JSON.stringify(e.detail)];

export async function recordAudit(db: Queryable, e: AuditEntry): Promise<void> {
  await db.query(AUDIT_INSERT, auditValues(e));
}
