import type { Scope } from '@cdc/auth';
import type { Endpoints } from '@cdc/config';
import { closeKeyDatabases, issueKey, openKeyDatabases, revokeKey } from './keyring.js';

export interface TemporaryKey {
  id: string;
  token: string;
  /** Revokes the key in both databases; safe to call twice. */
  revoke(): Promise<void>;
}

/**
 * A key for one run of one of the repo's own tools (the fault suite, a benchmark, a
 * smoke check), issued straight into both databases and revoked when the run ends.
 * It expires on its own after `ttlMs` should the run die before revoking it. No rate
 * limit: these tools measure or load the APIs on purpose.
 */
export async function temporaryKey(
  env: Pick<Endpoints, 'CRM_DATABASE_URL' | 'TELEMETRY_DATABASE_URL'>,
  name: string,
  scopes: Scope[],
  ttlMs = 6 * 3_600_000,
): Promise<TemporaryKey> {
  const dbs = openKeyDatabases(env);
  let issued;
  try {
    issued = await issueKey(dbs, { name, scopes, ratePerSecond: 0, expiresAt: new Date(Date.now() + ttlMs) });
  } finally {
    await closeKeyDatabases(dbs);
  }
  const id = issued.record.id;
  let revoked = false;
  return {
    id,
    token: issued.token,
    async revoke() {
      if (revoked) return;
      const again = openKeyDatabases(env);
      try {
        await revokeKey(again, id);
        revoked = true;
      } finally {
        await closeKeyDatabases(again);
      }
    },
  };
}
