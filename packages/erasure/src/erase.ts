import type { ClickHouseClient } from '@clickhouse/client';
import type { Kafka } from 'kafkajs';
import type { Pool } from 'pg';
import type { KafkaAccess } from '@cdc/kafka';
import { emailsIn, eraseClickHouse, residue, waitForDelete, type Residue, type TableErasure } from './clickhouse.js';
import { needles } from './contact.js';
import { eraseKafka, KafkaCompactionPending, KafkaNotErasable, kafkaResidue, UserTopics, type KafkaErasure } from './kafka.js';
import { erasePostgres, type ErasedBy } from './postgres.js';

export interface ErasureDeps {
  /** crm_db, where the user lives. */
  crm: Pool;
  /** As the pipeline user: erasure deletes rows. */
  ch: ClickHouseClient;
  /** A principal that may read, describe and write the user topics (kafka.ts, USER_TOPICS). */
  kafka: { client: Kafka; access: KafkaAccess };
}

export interface ErasureOptions {
  /** How long to wait for the delete to reach ClickHouse through Debezium and Kafka. */
  cdcTimeoutMs?: number;
  /** How long to wait for Kafka's cleaner once the user's segments are closed. */
  compactionTimeoutMs?: number;
}

export interface ErasureReport {
  user_id: number;
  postgres: { table: 'crm_db.public.users'; removed: number };
  clickhouse: TableErasure[];
  kafka: KafkaErasure[];
  /** Copies still readable after the erasure (an empty list is the goal; anything else fails it). */
  residue: Residue[];
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
 * crm_db, then (once its delete has reached ClickHouse) every ClickHouse copy, then the
 * user's records in Kafka (compacted away), and checks every stored ClickHouse table and
 * the user topics for anything left. A second run for the same user finds nothing to
 * erase (UserNotFound); one after an incomplete run finishes the work.
 */
export async function eraseUser(deps: ErasureDeps, id: number, by: ErasedBy, opts: ErasureOptions = {}): Promise<ErasureReport> {
  const cdcTimeoutMs = opts.cdcTimeoutMs ?? 60_000;
  const before = await emailsIn(deps.ch, id);
  const pg = await erasePostgres(deps.crm, id, by);
  // Also when crm_db no longer had the row (an earlier run, or DELETE /users/{id}):
  // ClickHouse still holding it means the delete may yet arrive and write it back.
  if ((pg.deleted || before.length > 0) && !(await waitForDelete(deps.ch, id, cdcTimeoutMs))) {
    throw new ErasureIncomplete(
      `user ${id} was deleted from crm_db, but the delete has not reached ClickHouse within ${cdcTimeoutMs / 1000} s ` +
        '(is Kafka Connect or ClickHouse down?); run the erasure again once it has',
      report(id, pg.deleted, [], [], []),
    );
  }
  // The delete event's row image is crm_db's row: its e-mail is pg.email.
  const hexes = needles([pg.email, ...before]);
  const tables = await eraseClickHouse(deps.ch, id, hexes);
  let kafka: KafkaErasure[];
  let kafkaLeft: { topic: string; records: number }[];
  let topics: UserTopics | undefined;
  try {
    topics = await UserTopics.open(deps.kafka.client, deps.kafka.access);
    kafka = await eraseKafka(topics, id, opts.compactionTimeoutMs ?? 60_000);
    kafkaLeft = await kafkaResidue(topics, hexes);
  } catch (err) {
    // crm_db and ClickHouse are done either way; a broker that went down meanwhile is a
    // reason to run the erasure again, like a compaction that has not finished.
    const why = err instanceof KafkaCompactionPending || err instanceof KafkaNotErasable ? err.message : `Kafka: ${(err as Error).message}`;
    throw new ErasureIncomplete(`${why}; the rest is done: run the erasure again to finish`, report(id, pg.deleted, tables, [], []));
  } finally {
    await topics?.close();
  }
  if (!pg.deleted && before.length === 0 && kafka.every((k) => k.removed === 0)) throw new UserNotFound(id);
  const left = [
    ...(await residue(deps.ch, id, hexes)),
    ...kafkaLeft.map((r) => ({ table: `kafka ${r.topic}`, column: 'value', rows: r.records })),
  ];
  const done = report(id, pg.deleted, tables, kafka, left);
  if (left.length > 0) {
    throw new ErasureIncomplete(`copies of user ${id}'s data are still readable in ${left.map((r) => `${r.table}.${r.column}`).join(', ')}`, done);
  }
  return done;
}

function report(id: number, pgDeleted: boolean, clickhouse: TableErasure[], kafka: KafkaErasure[], left: Residue[]): ErasureReport {
  return {
    user_id: id,
    postgres: { table: 'crm_db.public.users', removed: pgDeleted ? 1 : 0 },
    clickhouse,
    kafka,
    residue: left,
    backups: 'docs/security.md, "Erasure": backups taken before now still hold the user until they expire',
    finished_at: new Date().toISOString(),
  };
}
