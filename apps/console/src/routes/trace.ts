import { Hono } from 'hono';
import { consoleMessagePath, lagMs, traceEvent, type TraceSources } from '@cdc/event-trace';
import type { TraceView } from '../contract.js';
import type { Deps } from '../deps.js';
import { ConsoleError } from '../errors.js';
import { toMessage } from '../messages/view.js';

const EVENTS_TOPIC = 'telemetry.public.telemetry_events';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * One telemetry event through the pipeline: the hops `npm run trace` prints
 * (packages/event-trace), with the event as each store has it.
 */
export function traceRoutes(deps: Deps): Hono {
  const app = new Hono();
  const sources: TraceSources = {
    telemetryDb: deps.pg.telemetry,
    ch: deps.ch,
    eventsTopic: EVENTS_TOPIC,
    async kafkaTimestamp(topic, partition, offset) {
      const m = await deps.reader.readOne(topic, partition, BigInt(offset));
      if (!m) throw new ConsoleError(404, `${topic}[${partition}]@${offset}: gone from Kafka (retention or compaction)`);
      return new Date(Number(m.timestamp));
    },
  };

  app.get('/trace/:uuid', async (c) => {
    const uuid = c.req.param('uuid');
    if (!UUID.test(uuid)) throw new ConsoleError(400, `not an event uuid: "${uuid}"`);
    const trace = await traceEvent(uuid, sources);
    if (trace.hops.length === 0) throw new ConsoleError(404, `no event ${uuid} in PostgreSQL or ClickHouse`);
    const kafkaHop = trace.hops.find((h) => h.kafka)?.kafka;
    const [pgRows, raw, chRows] = await Promise.all([
      deps.pg.telemetry.query('SELECT * FROM telemetry_events WHERE event_uuid = $1::uuid', [uuid]),
      kafkaHop ? deps.reader.readOne(kafkaHop.topic, kafkaHop.partition, BigInt(kafkaHop.offset)) : undefined,
      deps.ch
        .query({
          query: `SELECT 'default.telemetry_events' AS _table, * FROM default.telemetry_events WHERE event_uuid = {uuid:UUID} ORDER BY _lsn`,
          query_params: { uuid },
          format: 'JSONEachRow',
        })
        .then((rs) => rs.json<Record<string, unknown>>()),
    ]);
    const view: TraceView = {
      eventUuid: trace.event_uuid,
      requestId: trace.request_id,
      hops: trace.hops.map((h) => ({
        hop: h.hop,
        where: h.where,
        at: h.at.toISOString(),
        lagMs: lagMs(trace, h) ?? null,
        link: h.kafka ? consoleMessagePath(h.kafka) : null,
      })),
      missing: trace.missing,
      postgres: (pgRows.rows[0] as Record<string, unknown> | undefined) ?? null,
      kafka: raw ? await toMessage(kafkaHop!.topic, raw, deps.registry) : null,
      clickhouse: chRows,
    };
    return c.json(view);
  });

  return app;
}
