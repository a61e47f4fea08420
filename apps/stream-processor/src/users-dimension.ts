import type { ChangeEvent, UserRow } from './debezium.js';

/** What enrichment takes from a user. */
export interface UserDims {
  country: string | null;
  gender: string | null;
  age_band: string | null;
}

/** [first age not in the band, band]; older than the last: '75+'. */
export const AGE_BANDS: readonly (readonly [number, string])[] = [
  [18, '0-17'],
  [30, '18-29'],
  [45, '30-44'],
  [60, '45-59'],
  [75, '60-74'],
];

export function ageBand(age: number | null | undefined): string | null {
  if (age === null || age === undefined) return null;
  for (const [below, band] of AGE_BANDS) if (age < below) return band;
  return '75+';
}

/**
 * The latest state of every user, from crm.public.users alone (the topic is
 * compacted: it always holds every live user's latest change), never from
 * PostgreSQL. Changes of one user share a partition and arrive in commit order; the
 * LSN guard also makes a replayed older change harmless.
 */
export class UsersDimension {
  readonly #users = new Map<number, UserDims & { lsn: bigint }>();

  /** Applies one change; returns the user id whose state changed, if any. */
  apply(change: ChangeEvent<UserRow>): { id: number; dims: UserDims | undefined } | undefined {
    const row = change.op === 'd' ? change.before : change.after;
    if (!row) return undefined;
    const known = this.#users.get(row.id);
    if (known && known.lsn > change.lsn) return undefined;
    if (change.op === 'd') {
      this.#users.delete(row.id);
      return { id: row.id, dims: undefined };
    }
    const dims = { country: row.country ?? null, gender: row.gender ?? null, age_band: ageBand(row.age) };
    this.#users.set(row.id, { ...dims, lsn: change.lsn });
    return { id: row.id, dims };
  }

  /** A tombstone: the key's user is gone (its delete event came before). */
  forget(id: number): void {
    this.#users.delete(id);
  }

  get(id: number): UserDims | undefined {
    const u = this.#users.get(id);
    return u && { country: u.country, gender: u.gender, age_band: u.age_band };
  }

  get size(): number {
    return this.#users.size;
  }
}
