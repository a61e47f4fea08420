import type { ClickHouseClient } from '@clickhouse/client';

/**
 * ClickHouse's copies of a user's personal data, and their removal. default.users keeps
 * every version of a row (ReplacingMergeTree) until a merge, so a FINAL-less query
 * still returns an old e-mail; debezium.users_join is the processor's lookup of
 * current users (Join engine, persisted on disk); debezium.kafka_errors keeps the raw
 * text of messages that could not be used. The analytics tables hold no contact data.
 *
 * Deletes are mutations that rewrite every part holding the rows (mutations_sync=2:
 * done when the statement returns), not lightweight deletes, which only hide rows
 * whose bytes stay in the part until a merge.
 */
export interface TableErasure {
  table: string;
  removed: number;
}

const SYNC = { mutations_sync: '2' } as const;

/** Every e-mail the user's row versions in ClickHouse have held, to look for elsewhere. */
export async function emailsIn(ch: ClickHouseClient, id: number): Promise<string[]> {
  const rs = await ch.query({
    query: "SELECT DISTINCT email FROM default.users WHERE id = {id:Int32} AND email != ''",
    query_params: { id },
    format: 'JSONEachRow',
  });
  return (await rs.json<{ email: string }>()).map((r) => r.email);
}

/** Tables keyed by the user's id: erased by id, and checked by id afterwards. */
const BY_ID = ['default.users', 'debezium.users_join'];

/**
 * Waits until ClickHouse holds the delete of the user (the Kafka engine consumes it
 * within a second or two): removing the rows before it arrives would let the delete
 * event, whose row image holds every column, write them back.
 */
export async function waitForDelete(ch: ClickHouseClient, id: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if ((await count(ch, 'default.users', 'id = {id:Int32} AND _is_deleted = 1', { id })) > 0) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 250));
  }
}

const anyOf = (column: string, hexes: string[]) =>
  hexes.length === 0 ? '0' : hexes.map((_, i) => `position(${column}, unhex({n${i}:String})) > 0`).join(' OR ');
const hexParams = (hexes: string[]) => Object.fromEntries(hexes.map((h, i) => [`n${i}`, h]));

async function count(ch: ClickHouseClient, table: string, where: string, params: Record<string, unknown>): Promise<number> {
  const rs = await ch.query({ query: `SELECT count() AS n FROM ${table} WHERE ${where}`, query_params: params, format: 'JSONEachRow' });
  const [row] = await rs.json<{ n: string }>();
  return Number(row?.n ?? 0);
}

async function deleteWhere(ch: ClickHouseClient, table: string, where: string, params: Record<string, unknown>): Promise<TableErasure> {
  const removed = await count(ch, table, where, params);
  if (removed > 0) {
    await ch.command({ query: `ALTER TABLE ${table} DELETE WHERE ${where}`, query_params: params, clickhouse_settings: SYNC });
  }
  return { table, removed };
}

/** Removes every row of the user, and every raw message holding one of its values. */
export async function eraseClickHouse(ch: ClickHouseClient, id: number, hexes: string[]): Promise<TableErasure[]> {
  const byId = { id };
  return [
    ...(await Promise.all(BY_ID.map((table) => deleteWhere(ch, table, 'id = {id:Int32}', byId)))),
    // Messages keyed by the user (a Debezium key is {"id":…}), and any other holding its data.
    await deleteWhere(
      ch,
      'debezium.kafka_errors',
      `JSONExtractInt(kafka_key, 'id') = {id:Int32} OR ${anyOf('raw_message', hexes)}`,
      { ...byId, ...hexParams(hexes) },
    ),
  ];
}

/** Engines whose rows are stored and can be read back without side effects. */
const STORED = /MergeTree$|^Join$|^Memory$|^Log$|^TinyLog$|^StripeLog$/;

export interface Residue {
  table: string;
  column: string;
  rows: number;
}

/**
 * What is still readable: rows with the user's id in the tables keyed by it, and the
 * user's e-mail in any String column of any stored table (a check that erasure missed
 * no copy, including one in a table added after this was written).
 */
export async function residue(ch: ClickHouseClient, id: number, hexes: string[]): Promise<Residue[]> {
  const found: Residue[] = [];
  for (const table of BY_ID) {
    const rows = await count(ch, table, 'id = {id:Int32}', { id });
    if (rows > 0) found.push({ table, column: 'id', rows });
  }
  if (hexes.length === 0) return found;
  const rs = await ch.query({
    query: `SELECT c.database AS database, c.table AS table, c.name AS column, t.engine AS engine
            FROM system.columns AS c INNER JOIN system.tables AS t ON t.database = c.database AND t.name = c.table
            WHERE c.database NOT IN ('system', 'INFORMATION_SCHEMA', 'information_schema')
              AND c.type IN ('String', 'Nullable(String)', 'LowCardinality(String)', 'LowCardinality(Nullable(String))')`,
    format: 'JSONEachRow',
  });
  const columns = (await rs.json<{ database: string; table: string; column: string; engine: string }>()).filter((c) => STORED.test(c.engine));
  for (const c of columns) {
    const table = `\`${c.database}\`.\`${c.table}\``;
    const rows = await count(ch, table, anyOf(`\`${c.column}\``, hexes), hexParams(hexes));
    if (rows > 0) found.push({ table: `${c.database}.${c.table}`, column: c.column, rows });
  }
  return found;
}
