import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A stand-in OpenTelemetry collector for the tests: the OTLP/HTTP traces endpoint
 * (POST /v1/traces) on 127.0.0.1, in both encodings the exporters speak
 * (application/json and application/x-protobuf, decoded here without a protobuf
 * library), keeping every span it receives.
 */
export type AttributeValue = string | number | boolean | null;

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  /** '' for a root span. */
  parentSpanId: string;
  name: string;
  /** OTLP SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  attributes: Record<string, AttributeValue>;
  /** OTLP StatusCode: 0 unset, 1 ok, 2 error. */
  statusCode: number;
  events: string[];
  resource: Record<string, AttributeValue>;
  scope: string;
}

export interface OtlpReceiver {
  /** The base URL, for OTEL_EXPORTER_OTLP_ENDPOINT. */
  url: string;
  readonly spans: ReceivedSpan[];
  /** Content types of the export requests received, in order. */
  readonly contentTypes: string[];
  /** Resolves with every span received once `done` finds what the test waits for among them. */
  waitFor(what: string, done: (spans: ReceivedSpan[]) => boolean, timeoutMs?: number): Promise<ReceivedSpan[]>;
  close(): Promise<void>;
}

export const SpanKindCode = { internal: 1, server: 2, client: 3, producer: 4, consumer: 5 } as const;

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const contentTypes: string[] = [];
  const server: Server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim();
      if (req.method !== 'POST' || req.url !== '/v1/traces') {
        res.writeHead(404).end();
        return;
      }
      contentTypes.push(type);
      try {
        spans.push(...(type === 'application/json' ? fromJson(JSON.parse(body.toString('utf8'))) : fromProtobuf(body)));
      } catch (err) {
        res.writeHead(400, { 'content-type': 'text/plain' }).end(String(err));
        return;
      }
      // An empty ExportTraceServiceResponse: full success.
      if (type === 'application/json') res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      else res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    contentTypes,
    async waitFor(what, done, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (!done(spans)) {
        if (Date.now() > deadline) {
          throw new Error(`no ${what} within ${timeoutMs} ms; received: ${JSON.stringify(spans.map((s) => s.name))}`);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      return spans;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

// ------------------------------------------------------------------ JSON encoding

interface JsonKeyValue {
  key: string;
  value: { stringValue?: string; boolValue?: boolean; intValue?: number | string; doubleValue?: number };
}

function jsonAttributes(list: JsonKeyValue[] | undefined): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const { key, value } of list ?? []) {
    out[key] =
      value.stringValue ?? value.boolValue ?? (value.intValue !== undefined ? Number(value.intValue) : undefined) ?? value.doubleValue ?? null;
  }
  return out;
}

function fromJson(body: any): ReceivedSpan[] {
  const out: ReceivedSpan[] = [];
  for (const rs of body.resourceSpans ?? []) {
    const resource = jsonAttributes(rs.resource?.attributes);
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        out.push({
          traceId: s.traceId,
          spanId: s.spanId,
          parentSpanId: s.parentSpanId ?? '',
          name: s.name,
          kind: s.kind,
          attributes: jsonAttributes(s.attributes),
          statusCode: s.status?.code ?? 0,
          events: (s.events ?? []).map((e: { name: string }) => e.name),
          resource,
          scope: ss.scope?.name ?? '',
        });
      }
    }
  }
  return out;
}

// -------------------------------------------------------------- protobuf encoding
// Just enough of the wire format for opentelemetry/proto/trace/v1 (field numbers
// from trace.proto, common.proto and resource.proto).

type Field = { no: number; wire: number; varint?: bigint; bytes?: Buffer; fixed?: Buffer };

function* fields(buf: Buffer): Generator<Field> {
  let pos = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const b = buf[pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
    }
  };
  while (pos < buf.length) {
    const tag = Number(varint());
    const no = tag >>> 3;
    const wire = tag & 7;
    if (wire === 0) yield { no, wire, varint: varint() };
    else if (wire === 1) yield { no, wire, fixed: buf.subarray(pos, (pos += 8)) };
    else if (wire === 5) yield { no, wire, fixed: buf.subarray(pos, (pos += 4)) };
    else if (wire === 2) {
      const len = Number(varint());
      yield { no, wire, bytes: buf.subarray(pos, (pos += len)) };
    } else throw new Error(`unsupported wire type ${wire}`);
  }
}

function anyValue(buf: Buffer): AttributeValue {
  for (const f of fields(buf)) {
    if (f.no === 1) return f.bytes!.toString('utf8');
    if (f.no === 2) return f.varint !== 0n;
    if (f.no === 3) return Number(BigInt.asIntN(64, f.varint!));
    if (f.no === 4) return f.fixed!.readDoubleLE(0);
  }
  return null;
}

function keyValue(buf: Buffer): [string, AttributeValue] {
  let key = '';
  let value: AttributeValue = null;
  for (const f of fields(buf)) {
    if (f.no === 1) key = f.bytes!.toString('utf8');
    else if (f.no === 2) value = anyValue(f.bytes!);
  }
  return [key, value];
}

function protoSpan(buf: Buffer, resource: Record<string, AttributeValue>, scope: string): ReceivedSpan {
  const span: ReceivedSpan = { traceId: '', spanId: '', parentSpanId: '', name: '', kind: 0, attributes: {}, statusCode: 0, events: [], resource, scope };
  for (const f of fields(buf)) {
    switch (f.no) {
      case 1: span.traceId = f.bytes!.toString('hex'); break;
      case 2: span.spanId = f.bytes!.toString('hex'); break;
      case 4: span.parentSpanId = f.bytes!.toString('hex'); break;
      case 5: span.name = f.bytes!.toString('utf8'); break;
      case 6: span.kind = Number(f.varint); break;
      case 9: { const [k, v] = keyValue(f.bytes!); span.attributes[k] = v; break; }
      case 11: for (const e of fields(f.bytes!)) if (e.no === 2) span.events.push(e.bytes!.toString('utf8')); break;
      case 15: for (const s of fields(f.bytes!)) if (s.no === 3) span.statusCode = Number(s.varint); break;
    }
  }
  return span;
}

function fromProtobuf(body: Buffer): ReceivedSpan[] {
  const out: ReceivedSpan[] = [];
  for (const rsField of fields(body)) {
    if (rsField.no !== 1) continue;
    const resource: Record<string, AttributeValue> = {};
    const scopeSpans: Buffer[] = [];
    for (const f of fields(rsField.bytes!)) {
      if (f.no === 1) for (const a of fields(f.bytes!)) if (a.no === 1) { const [k, v] = keyValue(a.bytes!); resource[k] = v; }
      if (f.no === 2) scopeSpans.push(f.bytes!);
    }
    for (const ss of scopeSpans) {
      let scope = '';
      const spans: Buffer[] = [];
      for (const f of fields(ss)) {
        if (f.no === 1) for (const s of fields(f.bytes!)) if (s.no === 1) scope = s.bytes!.toString('utf8');
        if (f.no === 2) spans.push(f.bytes!);
      }
      for (const s of spans) out.push(protoSpan(s, resource, scope));
    }
  }
  return out;
}
