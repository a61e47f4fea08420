import { decodeBytes, type RawMessage, type RegistryDecoder } from '@cdc/kafka';
import type { DlqInfo, Message } from '../contract.js';
import { readChange } from './change.js';

function headerText(v: Buffer | Buffer[] | undefined): string {
  if (v === undefined) return '';
  return (Array.isArray(v) ? v : [v]).map((b) => b.toString('utf8')).join(', ');
}

/** The processor's dead-letter headers (apps/stream-processor/src/dlq.ts), or null when there are none. */
export function readDlq(headers: { name: string; value: string }[]): DlqInfo | null {
  const h = new Map(headers.map((x) => [x.name, x.value]));
  if (!h.has('dlq.error') && !h.has('dlq.source.topic')) return null;
  const partition = h.get('dlq.source.partition');
  return {
    error: h.get('dlq.error') ?? null,
    sourceTopic: h.get('dlq.source.topic') ?? null,
    sourcePartition: partition === undefined ? null : Number(partition),
    sourceOffset: h.get('dlq.source.offset') ?? null,
  };
}

/**
 * A fetched record as the page shows it: key and value decoded (JSON, Avro through the
 * registry, raw), a Debezium change read out of the value, DLQ headers read as such.
 * A registry failure decodes that one value as raw with the error, rather than failing
 * the page: the other messages still show.
 */
export async function toMessage(topic: string, m: RawMessage, registry: RegistryDecoder | undefined): Promise<Message> {
  const [key, value] = await Promise.all([safeDecode(m.key, registry), safeDecode(m.value, registry)]);
  const headers = Object.entries(m.headers).map(([name, v]) => ({ name, value: headerText(v) }));
  return {
    topic,
    partition: m.partition,
    offset: m.offset,
    timestamp: new Date(Number(m.timestamp)).toISOString(),
    key,
    value,
    headers,
    sizeBytes: m.sizeBytes,
    change: value.format === 'tombstone' || value.format === 'raw' ? null : readChange(value.value),
    dlq: readDlq(headers),
  };
}

async function safeDecode(bytes: Buffer | null, registry: RegistryDecoder | undefined): Promise<Message['value']> {
  try {
    return await decodeBytes(bytes, registry);
  } catch (err) {
    return { format: 'raw', value: null, raw: { base64: bytes?.toString('base64') ?? '' }, error: (err as Error).message };
  }
}
