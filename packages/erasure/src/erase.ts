import type { ClickHouseClient } from '@clickhouse/client';
import type { Pool } from 'pg';
import { emailsIn, eraseClickHouse, residue, waitForDelete, type Residue, type TableErasure } from './clickhouse.js';
import { needles } from './contact.js';
import { erasePostgres, type ErasedBy } from './postgres.js';

export interface ErasureDeps {
  /** crm_db, where the user lives. */
  crm: Pool;
  /** As the pipeline user: erasure deletes rows. */
  ch: ClickHouseClient;
}

export interface ErasureOptions {
  /** How long to wait for the delete to reach ClickHouse through Debezium and Kafka. */
  cdcTimeoutMs?: number;
}

export interface ErasureReport {
  user_id: number;
  postgres: { table: 'crm_db.public.users'; removed: number };
  clickhouse: TableErasure[];
  /** Copies still readable after the erasure (an empty list is the goal; anything else fails it). */
  residue: Residue[];
  kafka: { topic: string; note: string };
  /** Where the rule for copies this command cannot reach is written down. */
  backups: string;
  finished_at: string;
}

export class UserNotFound extends Error {
  constructor(readonly userId: number) {
    super(`no user with id ${userId} in crm_db or ClickHouse`);
    this.name = 'UserNotFound';
  }
}

export class ErasureIncomplete extends Error {
  constructor(
    message: string,
    readonly report: ErasureReport,
  ) {
    super(message);
    this.name = 'ErasureIncomplete';
  }
}

/**
 * Erases a user's personal data from every store the product controls: the row in
 * crm_db, then (once its delete has reached ClickHouse) every ClickHouse copy, then
 * checks every stored ClickHouse table for anything left. A second run for the same user
 * finds nothing to erase (UserNotFound).
 */
export async function eraseUser(deps: ErasureDeps, id: number, by: ErasedBy, opts: ErasureOptions = {}): Promise<ErasureReport> {
  const before = await emailsIn(deps.ch, id);
  const pg = await erasePostgres(deps.crm, id, by);
  if (!pg.deleted && before.length === 0) throw new UserNotFound(id);
  if (pg.deleted && !(await waitForDelete(deps.ch, id, opts.cdcTimeoutMs ?? 60_000))) {
    const partial = report(id, pg.deleted, [], []);
    throw new ErasureIncomplete(
      `user ${id} was deleted from crm_db, but the delete has not reached ClickHouse within ${(opts.cdcTimeoutMs ?? 60_000) / 1000} s ` +
        '(is Kafka Connect or ClickHouse down?); run the erasure again once it has',
      partial,
    );
  }
  // The delete event's row image is crm_db's row: its e-mail is pg.email.
  const hexes = needles([pg.email, ...before]);
  const tables = await eraseClickHouse(deps.ch, id, hexes);
  const left = await residue(deps.ch, id, hexes);
  const done = report(id, pg.deleted, tables, left);
  if (left.length > 0) {
    throw new ErasureIncomplete(`copies of user ${id}'s data are still readable in ${left.map((r) => `${r.table}.${r.column}`).join(', ')}`, done);
  }
  return done;
}

function report(id: number, pgDeleted: boolean, clickhouse: TableErasure[], left: Residue[]): ErasureReport {
  return {
    user_id: id,
    postgres: { table: 'crm_db.public.users', removed: pgDeleted ? 1 : 0 },
    clickhouse,
    residue: left,
    kafka: {
      topic: 'crm.public.users',
      note: "Debezium wrote the delete and a tombstone for the user's key; compaction removes the older records (docs/security.md, \"Erasure\")",
    },
    backups: 'docs/security.md, "Erasure": backups taken before now still hold the user until they expire',
    finished_at: new Date().toISOString(),
  };
}
