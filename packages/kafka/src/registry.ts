import avsc from 'avsc';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';

const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * Avro `long` read as a number where that is exact and as a bigint beyond 2^53.
 * avsc's default refuses to read such values at all, and Debezium's Avro envelopes
 * always carry one (source.ts_ns, nanoseconds since the epoch), so without this
 * every Debezium Avro message would be undecodable.
 */
export const wideLong = avsc.types.LongType.__with({
  fromBuffer(buf: Buffer): number | bigint {
    const n = buf.readBigInt64LE();
    return n >= MIN_SAFE && n <= MAX_SAFE ? Number(n) : n;
  },
  toBuffer(n: number | bigint): Buffer {
    const buf = Buffer.alloc(8);
    buf.writeBigInt64LE(BigInt(n));
    return buf;
  },
  fromJSON(v: unknown): number | bigint {
    return typeof v === 'string' ? BigInt(v) : (v as number);
  },
  toJSON(n: number | bigint): number | string {
    return typeof n === 'bigint' ? n.toString() : n;
  },
  isValid(n: unknown): boolean {
    return (typeof n === 'number' && Number.isSafeInteger(n)) || (typeof n === 'bigint' && n >= -(2n ** 63n) && n < 2n ** 63n);
  },
  compare(a: number | bigint, b: number | bigint): number {
    return a < b ? -1 : a > b ? 1 : 0;
  },
});

/**
 * avsc options that read every `long` with `wideLong`. A type hook, not avsc's
 * `registry` option: the client passes the same options to every schema it parses,
 * and a shared registry would make the second version of a named record (a
 * Debezium envelope after a column was added) a "duplicate type name".
 */
export const AVRO_OPTIONS = {
  typeHook: (schema: unknown) =>
    schema === 'long' || (typeof schema === 'object' && schema !== null && (schema as { type?: unknown }).type === 'long') ? wideLong : undefined,
};

/** A Confluent-API registry client whose Avro types read longs with `wideLong`. */
export function createSchemaRegistry(
  url: string,
  opts: { clientId?: string; retry?: { retries?: number; maxRetryTimeInSecs?: number } } = {},
): SchemaRegistry {
  return new SchemaRegistry({ host: url, ...opts }, { [SchemaType.AVRO]: AVRO_OPTIONS as never });
}

export interface SubjectVersion {
  subject: string;
  version: number;
  id: number;
  schemaType: string;
  schema: string;
}

/**
 * Subjects and their versions through the registry's Confluent API (Apicurio's ccompat
 * serves the same paths). The schema client above decodes; this lists, for people.
 */
export async function listSubjects(url: string, timeoutMs = 5_000): Promise<{ subject: string; versions: SubjectVersion[] }[]> {
  const get = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${url.replace(/\/$/, '')}${path}`, { signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) throw new Error(`schema registry ${url}: GET ${path} → ${res.status}: ${(await res.text()).slice(0, 300)}`);
    return (await res.json()) as T;
  };
  const subjects = (await get<string[]>('/subjects')).sort();
  return Promise.all(
    subjects.map(async (subject) => {
      const s = encodeURIComponent(subject);
      const numbers = await get<number[]>(`/subjects/${s}/versions`);
      const versions = await Promise.all(
        numbers.map(async (v) => {
          const d = await get<{ version: number; id: number; schemaType?: string; schema: string }>(`/subjects/${s}/versions/${v}`);
          return { subject, version: d.version, id: d.id, schemaType: d.schemaType ?? 'AVRO', schema: d.schema };
        }),
      );
      return { subject, versions };
    }),
  );
}
