import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The part of the Confluent Schema Registry API that @kafkajs/confluent-schema-registry
 * uses to register, encode and decode: GET/PUT /config/{subject} (a subject's
 * compatibility level, 404 until set), POST /subjects/{subject}/versions, GET /schemas/ids/{id}.
 * For the unit tests only, which must run without the stack; the integration tests
 * (debezium-avro, avro-output) use the stack's real registry (Apicurio).
 */
export interface StandInRegistry {
  url: string;
  /** Subject → schema ids registered under it, in order. */
  subjects: Map<string, number[]>;
  /** Makes GET /schemas/ids/{id} known without a registration (for hand-made wire bytes). */
  preload(id: number, schema: string): void;
  close(): Promise<void>;
}

const CONTENT_TYPE = { 'content-type': 'application/vnd.schemaregistry.v1+json' };

async function body(req: IncomingMessage): Promise<string> {
  let text = '';
  for await (const chunk of req) text += String(chunk);
  return text;
}

export async function startStandInRegistry(): Promise<StandInRegistry> {
  const schemas = new Map<number, string>();
  const subjects = new Map<string, number[]>();
  const compatibility = new Map<string, string>();
  let nextId = 1;

  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://registry');
      const register = /^\/subjects\/([^/]+)\/versions$/.exec(url.pathname);
      const byId = /^\/schemas\/ids\/(\d+)$/.exec(url.pathname);
      const config = /^\/config\/([^/]+)$/.exec(url.pathname);
      if (config && req.method === 'PUT') {
        const level = (JSON.parse(await body(req)) as { compatibility: string }).compatibility;
        compatibility.set(decodeURIComponent(config[1]!), level);
        res.writeHead(200, CONTENT_TYPE).end(JSON.stringify({ compatibility: level }));
      } else if (config && req.method === 'GET' && compatibility.has(decodeURIComponent(config[1]!))) {
        res.writeHead(200, CONTENT_TYPE).end(JSON.stringify({ compatibilityLevel: compatibility.get(decodeURIComponent(config[1]!)) }));
      } else if (req.method === 'POST' && register) {
        const subject = decodeURIComponent(register[1]!);
        const { schema } = JSON.parse(await body(req)) as { schema: string };
        // The same schema text gets the same id, as in the real registry.
        let id = [...schemas].find(([, s]) => s === schema)?.[0];
        if (id === undefined) schemas.set((id = nextId++), schema);
        const ids = subjects.get(subject) ?? [];
        if (!ids.includes(id)) subjects.set(subject, [...ids, id]);
        res.writeHead(200, CONTENT_TYPE).end(JSON.stringify({ id }));
      } else if (req.method === 'GET' && byId && schemas.has(Number(byId[1]))) {
        res.writeHead(200, CONTENT_TYPE).end(JSON.stringify({ schema: schemas.get(Number(byId[1])) }));
      } else {
        res.writeHead(404, CONTENT_TYPE).end(JSON.stringify({ error_code: 40403, message: 'Schema not found' }));
      }
    })().catch((err: Error) => res.writeHead(500, CONTENT_TYPE).end(JSON.stringify({ error_code: 50001, message: err.message })));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    subjects,
    preload(id, schema) {
      schemas.set(id, schema);
      nextId = Math.max(nextId, id + 1);
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
