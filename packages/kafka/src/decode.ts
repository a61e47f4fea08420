import { createSchemaRegistry } from '@cdc/kafka';
import { KafkaInspectError } from './errors.js';

/**
 * Decodes a message key or value by looking at its bytes, one message at a time (a
 * topic may mix formats, e.g. after a converter change):
 *
 *   null                         → tombstone (compaction's delete marker)
 *   0x00 + 4-byte schema id + …  → Confluent wire format, decoded through the schema
 *                                  registry (Avro; JSON Schema/Protobuf if registered so)
 *   valid UTF-8 that JSON.parses → JSON (what this pipeline's Debezium connectors write)
 *   anything else                → raw: base64, plus the text when it is valid UTF-8
 *
 * The wire-format test cannot misfire on JSON: a JSON text never starts with a NUL byte.
 */
export type Decoded =
  | { format: 'tombstone'; value: null }
  | { format: 'json'; value: unknown }
  | { format: 'avro' | 'registry-json' | 'registry-protobuf'; schemaId: number; value: unknown }
  | { format: 'raw'; value: null; raw: RawBytes; error?: string };

export interface RawBytes {
  base64: string;
  utf8?: string;
}

/** The part of SchemaRegistry the decoder uses, so a test can count calls or fail them. */
export interface RegistryDecoder {
  readonly url: string;
  decode(buffer: Buffer): Promise<unknown>;
  /** The registry's type of an already-fetched schema id (AVRO, JSON, PROTOBUF). */
  typeOf(schemaId: number): string | undefined;
}

export function createRegistryDecoder(url: string): RegistryDecoder {
  // One quick retry: an unreachable registry should fail the command in seconds.
  const registry = createSchemaRegistry(url, { clientId: 'cdc-kafka-cli', retry: { retries: 1, maxRetryTimeInSecs: 1 } });
  return {
    url,
    decode: (buffer) => registry.decode(buffer),
    typeOf: (id) => registry.cache.getSchema(id)?.type,
  };
}

const MAGIC_BYTE = 0;
const WIRE_HEADER_BYTES = 5;

export function isConfluentWireFormat(bytes: Buffer): boolean {
  return bytes.length >= WIRE_HEADER_BYTES && bytes[0] === MAGIC_BYTE;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function utf8OrUndefined(bytes: Buffer): string | undefined {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return undefined;
  }
}

export function rawBytes(bytes: Buffer): RawBytes {
  const utf8 = utf8OrUndefined(bytes);
  return utf8 === undefined ? { base64: bytes.toString('base64') } : { base64: bytes.toString('base64'), utf8 };
}

/**
 * @param registry undefined when SCHEMA_REGISTRY_URL is not set; a wire-format message
 *   then stops the command with an error saying so, since no later message can be
 *   decoded either.
 */
export async function decodeBytes(bytes: Buffer | null, registry: RegistryDecoder | undefined): Promise<Decoded> {
  if (bytes === null) return { format: 'tombstone', value: null };
  if (isConfluentWireFormat(bytes)) return decodeWireFormat(bytes, registry);
  const text = utf8OrUndefined(bytes);
  if (text !== undefined && text.trim() !== '') {
    try {
      return { format: 'json', value: JSON.parse(text) as unknown };
    } catch {
      // not JSON: raw below
    }
  }
  return { format: 'raw', value: null, raw: rawBytes(bytes) };
}

async function decodeWireFormat(bytes: Buffer, registry: RegistryDecoder | undefined): Promise<Decoded> {
  const schemaId = bytes.readInt32BE(1);
  if (!registry) {
    throw new KafkaInspectError(
      `message is in Confluent wire format (schema id ${schemaId}) but SCHEMA_REGISTRY_URL is not set; ` +
        'set it (environment or .env) to decode it',
    );
  }
  let value: unknown;
  try {
    value = await registry.decode(bytes);
  } catch (err) {
    // The registry's HTTP errors come back as ResponseError with a status; mappersmith
    // reports an unreachable server as status 400 with the socket error as message.
    // Only "no such schema" is about this message; any other registry error would hit
    // every later message too, so it ends the command.
    const status = (err as { status?: unknown }).status;
    const message = (err as Error).message;
    if ((err as Error).name === 'ResponseError' && status !== 404) {
      throw new KafkaInspectError(`schema registry ${registry.url}: fetching schema id ${schemaId} failed: ${message}`, { cause: err });
    }
    // Unknown schema id, or bytes that do not match the writer schema: likely not
    // wire format at all but a binary value that happens to start with 0x00.
    return { format: 'raw', value: null, raw: rawBytes(bytes), error: `schema id ${schemaId}: ${message}` };
  }
  const type = registry.typeOf(schemaId);
  const format = type === 'JSON' ? 'registry-json' : type === 'PROTOBUF' ? 'registry-protobuf' : 'avro';
  return { format, schemaId, value: toJsonSafe(value) };
}

/**
 * Avro values are not all JSON: bytes/fixed decode to Buffers, logical types may give
 * Dates, and a long may be a bigint with a custom long type. Converted here so the
 * printed line is lossless and valid JSON (Buffers as base64).
 */
export function toJsonSafe(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return typeof value === 'bigint' ? value.toString() : value;
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(toJsonSafe);
  if (value instanceof Map) return Object.fromEntries([...value].map(([k, v]) => [String(k), toJsonSafe(v)]));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toJsonSafe(v)]));
}
