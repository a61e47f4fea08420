import type { RawMessage } from '@cdc/kafka';

/**
 * The message filters of the Kafka page: key and text are substrings of the key's /
 * value's bytes as text; a field filter compares one field of a JSON value, by dotted
 * path (`after.user_id = 922`). A Debezium value wrapped by the JSON converter
 * ({schema, payload}) is looked into through its payload, so paths read like the
 * change event itself.
 */
export interface Filter {
  key?: string;
  text?: string;
  field?: FieldFilter;
}

export interface FieldFilter {
  path: string[];
  op: '=' | '!=' | '>' | '>=' | '<' | '<=' | '~';
  value: string;
}

export class FilterError extends Error {
  override name = 'FilterError';
}

const FIELD = /^\s*([A-Za-z_$][\w$]*(?:\.[\w$]+)*)\s*(!=|>=|<=|=|>|<|~)\s*(.*?)\s*$/;

export function parseField(expr: string): FieldFilter {
  const m = FIELD.exec(expr);
  if (!m || m[3] === '') {
    throw new FilterError(`field filter "${expr}": expected <path> <op> <value>, e.g. after.user_id = 922 (ops: = != > >= < <= ~)`);
  }
  const raw = m[3]!;
  const value = /^(['"]).*\1$/.test(raw) ? raw.slice(1, -1) : raw;
  return { path: m[1]!.split('.'), op: m[2] as FieldFilter['op'], value };
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

function lookup(root: unknown, path: readonly string[]): unknown {
  let v: unknown = root;
  for (const p of path) {
    if (!isObj(v)) return undefined;
    v = (v as Record<string, unknown>)[p];
  }
  return v;
}

export function fieldMatches(value: unknown, f: FieldFilter): boolean {
  let actual = lookup(value, f.path);
  if (actual === undefined && isObj(value) && 'payload' in value && 'schema' in value) actual = lookup(value.payload, f.path);
  if (actual === undefined) return false;
  const text = actual === null ? 'null' : typeof actual === 'object' ? JSON.stringify(actual) : String(actual);
  switch (f.op) {
    case '=':
      return text === f.value;
    case '!=':
      return text !== f.value;
    case '~':
      return text.toLowerCase().includes(f.value.toLowerCase());
    default: {
      const [a, b] = [Number(text), Number(f.value)];
      const numeric = text.trim() !== '' && f.value.trim() !== '' && Number.isFinite(a) && Number.isFinite(b);
      const cmp = numeric ? a - b : text < f.value ? -1 : text > f.value ? 1 : 0;
      return f.op === '>' ? cmp > 0 : f.op === '>=' ? cmp >= 0 : f.op === '<' ? cmp < 0 : cmp <= 0;
    }
  }
}

/**
 * Whether a raw record passes. Byte-level checks first (no decoding), so a text or
 * key filter over 100,000 messages parses none of the ones it rejects. `decode`
 * gives the value for a field filter (JSON parse, or Avro through the registry).
 */
export async function matches(m: RawMessage, f: Filter, decode: (m: RawMessage) => Promise<unknown>): Promise<boolean> {
  if (f.key !== undefined && !(m.key?.includes(f.key) ?? false)) return false;
  if (f.text !== undefined && !(m.value?.includes(f.text) ?? false)) return false;
  if (f.field !== undefined) {
    if (m.value === null) return false;
    if (cannotEqual(m.value, f.field)) return false;
    return fieldMatches(await decode(m), f.field);
  }
  return true;
}

/** Characters JSON writes as themselves: a value made of them appears verbatim in the text. */
const VERBATIM = /^[\w.:@+-]+$/;

/**
 * True when a JSON value cannot hold `path = value` because the value's text is not in
 * its bytes at all: most messages of a field filter are rejected without parsing.
 * Only for `=` on a value JSON writes verbatim, and never for the Confluent wire
 * format (binary Avro, whose numbers are not text).
 */
function cannotEqual(bytes: Buffer, f: FieldFilter): boolean {
  return f.op === '=' && VERBATIM.test(f.value) && bytes[0] !== 0 && !bytes.includes(f.value);
}

export const isEmpty = (f: Filter) => f.key === undefined && f.text === undefined && f.field === undefined;
