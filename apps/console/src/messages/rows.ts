import type { Message, RowsView } from '../contract.js';
import type { Deps } from '../deps.js';

/**
 * The source tables whose rows the console can open, by Debezium's source.table:
 * the PostgreSQL database that holds them and the ClickHouse table their changes
 * land in (clickhouse/0002_current_state.sql). Both are keyed by `id`.
 */
const TABLES: Record<string, { database: 'crm' | 'telemetry'; clickhouse: string }> = {
  users: { database: 'crm', clickhouse: 'default.users' },
  telemetry_events: { database: 'telemetry', clickhouse: 'default.telemetry_events' },
};

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The row key of a change: the message key (Debezium writes the primary key there), else the row's id. */
function keyOf(m: Message): Record<string, unknown> | null {
  const k = m.key.value;
  const payload = isObj(k) && isObj(k.payload) && 'schema' in k ? k.payload : k;
  if (isObj(payload) && 'id' in payload) return { id: payload.id };
  const row = m.change?.after ?? m.change?.before;
  return row && 'id' in row ? { id: row.id } : null;
}

/**
 * The row a change event is about, as PostgreSQL has it now and as ClickHouse has it
 * (every version not yet merged away, newest first, with its _lsn and _is_deleted).
 * A failure on one side is reported on that side; the other still shows.
 */
export async function rowsOf(deps: Deps, m: Message): Promise<RowsView> {
  const table = m.change?.table ?? null;
  const target = table ? TABLES[table] : undefined;
  const key = keyOf(m);
  if (!target || !key) return { table, key, postgres: null, clickhouse: null };
  const id = String(key.id);
  const pgSql = `SELECT * FROM public.${table} WHERE id = $1`;
  const chSql = `SELECT * FROM ${target.clickhouse} WHERE id = {id:Int64} ORDER BY _lsn DESC LIMIT 20`;
  const [postgres, clickhouse] = await Promise.all([
    deps.pg[target.database].query(pgSql, [id]).then(
      (r) => ({ database: `${target.database}_db`, sql: pgSql, rows: r.rows as Record<string, unknown>[] }),
      (err: Error) => ({ database: `${target.database}_db`, sql: pgSql, rows: [], error: err.message }),
    ),
    deps.ch
      .query({ query: chSql, query_params: { id }, format: 'JSONEachRow' })
      .then((rs) => rs.json<Record<string, unknown>>())
      .then(
        (rows) => ({ sql: chSql, rows }),
        (err: Error) => ({ sql: chSql, rows: [], error: err.message }),
      ),
  ]);
  return { table, key, postgres, clickhouse };
}
