import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import avsc from 'avsc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRegistryDecoder, decodeBytes, isConfluentWireFormat, toJsonSafe, type RegistryDecoder } from '../src/decode.js';
import { KafkaInspectError } from '../src/errors.js';

/**
 * A stand-in schema registry: GET /schemas/ids/{id} is the only call decoding makes.
 * Schema 7 is an Avro record; any other id is the registry's 404 "Schema not found".
 */
const USER_SCHEMA = {
  type: 'record',
  name: 'User',
  namespace: 'crm',
  fields: [
    { name: 'id', type: 'int' },
    { name: 'email', type: ['null', 'string'], default: null },
    { name: 'avatar', type: 'bytes' },
  ],
} as const;
const userType = avsc.Type.forSchema(USER_SCHEMA as unknown as avsc.Schema);

let server: Server;
let registryUrl: string;
const requests: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    res.setHeader('content-type', 'application/vnd.schemaregistry.v1+json');
    if (req.method === 'GET' && req.url === '/schemas/ids/7') {
      res.end(JSON.stringify({ schema: JSON.stringify(USER_SCHEMA) }));
    } else {
      res.statusCode = 404;
      res.end(JSON.stringify({ error_code: 40403, message: 'Schema not found' }));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  registryUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** Confluent wire format: magic byte 0, schema id as big-endian int32, then the Avro body. */
function wire(schemaId: number, body: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.writeInt32BE(schemaId, 1);
  return Buffer.concat([header, body]);
}

const noRegistry = undefined;

describe('decodeBytes without a registry', () => {
  it('decodes JSON (the Debezium converter output), objects and scalars alike', async () => {
    const value = { before: null, after: { id: 1, name: 'Łukasz' }, op: 'c' };
    expect(await decodeBytes(Buffer.from(JSON.stringify(value)), noRegistry)).toEqual({ format: 'json', value });
    expect(await decodeBytes(Buffer.from('42'), noRegistry)).toEqual({ format: 'json', value: 42 });
  });

  it('turns a null value into a tombstone', async () => {
    expect(await decodeBytes(null, noRegistry)).toEqual({ format: 'tombstone', value: null });
  });

  it('keeps text that is not JSON as raw with its UTF-8, and binary garbage as base64 only', async () => {
    expect(await decodeBytes(Buffer.from('héllo, not json'), noRegistry)).toEqual({
      format: 'raw',
      value: null,
      raw: { base64: Buffer.from('héllo, not json').toString('base64'), utf8: 'héllo, not json' },
    });
    const garbage = Buffer.from([0xff, 0xfe, 0x01, 0x80]);
    expect(await decodeBytes(garbage, noRegistry)).toEqual({ format: 'raw', value: null, raw: { base64: '//4BgA==' } });
    expect(await decodeBytes(Buffer.alloc(0), noRegistry)).toEqual({ format: 'raw', value: null, raw: { base64: '', utf8: '' } });
  });

  it('recognises the wire format by its first five bytes only', () => {
    expect(isConfluentWireFormat(wire(7, Buffer.from([2])))).toBe(true);
    expect(isConfluentWireFormat(Buffer.from([0, 0, 0]))).toBe(false);
    expect(isConfluentWireFormat(Buffer.from('{"a":1}'))).toBe(false);
  });

  it('refuses a wire-format message with an error naming SCHEMA_REGISTRY_URL and the schema id', async () => {
    const err = await decodeBytes(wire(7, Buffer.from([2])), noRegistry).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KafkaInspectError);
    expect((err as Error).message).toMatch(/Confluent wire format \(schema id 7\) but SCHEMA_REGISTRY_URL is not set/);
  });
});

describe('decodeBytes with a schema registry (fake, local HTTP)', () => {
  let registry: RegistryDecoder;
  beforeAll(() => {
    registry = createRegistryDecoder(registryUrl);
  });

  it('decodes Avro through the schema fetched by id, bytes as base64', async () => {
    const body = userType.toBuffer({ id: 42, email: 'a@b.c', avatar: Buffer.from([1, 2, 3]) });
    expect(await decodeBytes(wire(7, body), registry)).toEqual({
      format: 'avro',
      schemaId: 7,
      value: { id: 42, email: 'a@b.c', avatar: 'AQID' },
    });
    // The schema is cached: a second message costs no request.
    const before = requests.length;
    await decodeBytes(wire(7, userType.toBuffer({ id: 1, email: null, avatar: Buffer.alloc(0) })), registry);
    expect(requests.length).toBe(before);
    expect(requests).toContain('GET /schemas/ids/7');
  });

  it('a schema id the registry does not know leaves the message raw, with the reason', async () => {
    const decoded = await decodeBytes(wire(99, Buffer.from([1, 2])), registry);
    expect(decoded).toMatchObject({ format: 'raw', value: null, error: expect.stringMatching(/schema id 99: .*Schema not found/) });
  });

  it('bytes that do not match the writer schema are raw, not a crash', async () => {
    const decoded = await decodeBytes(wire(7, Buffer.from([0x54])), registry);
    expect(decoded).toMatchObject({ format: 'raw', error: expect.stringMatching(/^schema id 7: /) });
  });

  it('an unreachable registry stops the command, naming its URL', async () => {
    // Port 1 on loopback: nothing listens there, so the connection is refused at once.
    const unreachable = createRegistryDecoder('http://127.0.0.1:1');
    const err = await decodeBytes(wire(7, Buffer.from([2])), unreachable).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KafkaInspectError);
    expect((err as Error).message).toMatch(/schema registry http:\/\/127\.0\.0\.1:1: fetching schema id 7 failed/);
  });
});

describe('toJsonSafe', () => {
  it('makes Avro values printable as JSON', () => {
    expect(toJsonSafe({ b: Buffer.from('hi'), d: new Date(0), n: 10n, m: new Map([[1, [Buffer.from([255])]]]) })).toEqual({
      b: 'aGk=',
      d: '1970-01-01T00:00:00.000Z',
      n: '10',
      m: { '1': ['/w=='] },
    });
  });
});
