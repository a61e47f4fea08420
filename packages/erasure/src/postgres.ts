import type { Pool, PoolClient } from 'pg';
import { AUDIT_INSERT, auditValues, type WriteBy } from '@cdc/db/api-keys';
import { CONTACT_COLUMNS } from './contact.js';

export interface PostgresErasure {
  /** The row existed in crm_db.users and was deleted. */
  deleted: boolean;
  /** Its e-mail, to look for elsewhere ('' when there was no row). */
  email: string;
}

/** Who asked, for the audit log: an API key and request, or an operator command. */
export type ErasedBy = WriteBy;

/**
 * Deletes the user's row and records the erasure in the audit log, in one transaction.
 * Debezium turns the delete into a delete event and a tombstone, which carry the
 * deletion to ClickHouse and, through compaction, out of Kafka.
 */
export async function erasePostgres(pool: Pool, id: number, by: ErasedBy): Promise<PostgresErasure> {
  const client: PoolClient = await pool.connect();
  try {
    await client.query('BEGIN');
    const { rows } = await client.query<{ email: string }>('DELETE FROM public.users WHERE id = $1 RETURNING email', [id]);
    if (rows.length > 0) {
      // The log names the erasure and never its values (the audit log holds no personal data).
      await client.query(
        AUDIT_INSERT,
        auditValues({ ...by, action: 'users.erase', target: String(id), detail: { columns: [...CONTACT_COLUMNS] } }),
      );
    }
    await client.query('COMMIT');
    return { deleted: rows.length > 0, email: rows[0]?.email ?? '' };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}
