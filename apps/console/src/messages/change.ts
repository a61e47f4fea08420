import type { Change } from '../contract.js';

const OP_NAMES: Record<Change['op'], Change['opName']> = {
  c: 'create',
  u: 'update',
  d: 'delete',
  r: 'read (snapshot)',
  t: 'truncate',
  m: 'message',
};

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

/**
 * A Debezium change event read from a decoded value, or null when the value is not
 * one. Accepts the envelope with or without the JSON converter's schema wrapper
 * ({schema, payload}); Avro values arrive as the bare envelope.
 */
export function readChange(value: unknown): Change | null {
  const env = isObj(value) && isObj(value.payload) && 'schema' in value ? value.payload : value;
  if (!isObj(env) || typeof env.op !== 'string' || !(env.op in OP_NAMES) || !isObj(env.source)) return null;
  const op = env.op as Change['op'];
  const source = env.source;
  const before = isObj(env.before) ? env.before : null;
  const after = isObj(env.after) ? env.after : null;
  const tx = isObj(env.transaction) ? env.transaction : null;
  const columns = [...new Set([...Object.keys(before ?? {}), ...Object.keys(after ?? {})])];
  return {
    op,
    opName: OP_NAMES[op],
    db: str(source.db),
    schema: str(source.schema),
    table: str(source.table),
    lsn: str(source.lsn),
    txId: str(tx?.id ?? source.txId),
    sourceTsMs: typeof source.ts_ms === 'number' ? source.ts_ms : source.ts_ms === undefined ? null : Number(source.ts_ms),
    before,
    after,
    diff: columns.map((column) => {
      const b = before?.[column] ?? null;
      const a = after?.[column] ?? null;
      // A create has no "before" and a delete no "after": every column counts as changed.
      return { column, before: b, after: a, changed: JSON.stringify(b) !== JSON.stringify(a) };
    }),
  };
}
