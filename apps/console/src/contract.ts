/**
 * The console's HTTP API: what the server (apps/console/src) answers and the front
 * end (apps/console/web) reads. Types only, so both sides compile against one shape.
 * Every route is under /api; errors are application/problem+json
 * ({ title, status, detail }).
 */

/** GET /api/overview, and each `snapshot` event of GET /api/overview/stream (SSE, every 2 s). */
export interface Overview {
  at: string;
  components: ComponentHealth[];
  /** In pipeline order: APIs → PostgreSQL → Debezium → Kafka → ClickHouse / processor → analytics. */
  hops: Hop[];
  errors: { kafkaErrors: number | null; dlq: { topic: string; messages: number }[] };
}
export interface ComponentHealth {
  name: string;
  url: string;
  ok: boolean;
  detail: string;
}
export interface Hop {
  id: string;
  from: string;
  to: string;
  /** Messages or rows per second over the last sample interval; null before two samples. */
  ratePerS: number | null;
  /** Messages not yet consumed (Kafka) or WAL bytes not yet confirmed (slots); null unknown. */
  lag: number | null;
  lagUnit: 'messages' | 'bytes' | null;
  /** Milliseconds since the newest item passed this hop; null unknown. */
  freshnessMs: number | null;
}

/** GET /api/topics */
export interface TopicSummary {
  topic: string;
  internal: boolean;
  partitions: number;
  messages: number;
  cleanupPolicy: string;
  retentionMs: string;
  /** Bytes on disk, all partitions and replicas (DescribeLogDirs); null if the brokers did not say. */
  sizeBytes: number | null;
}
/** GET /api/topics/:topic */
export interface TopicDetail extends TopicSummary {
  partitionInfo: { partition: number; low: number; high: number; messages: number; leader: number }[];
  configs: { name: string; value: string | null; isDefault: boolean }[];
}

export type Decoded =
  | { format: 'tombstone'; value: null }
  | { format: 'json'; value: unknown }
  | { format: 'avro' | 'registry-json' | 'registry-protobuf'; schemaId: number; value: unknown }
  | { format: 'raw'; value: null; raw: { base64: string; utf8?: string }; error?: string };

/** A Debezium change event, read from a message's value. */
export interface Change {
  op: 'c' | 'u' | 'd' | 'r' | 't' | 'm';
  opName: 'create' | 'update' | 'delete' | 'read (snapshot)' | 'truncate' | 'message';
  db: string | null;
  schema: string | null;
  table: string | null;
  lsn: string | null;
  txId: string | null;
  sourceTsMs: number | null;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  /** Every column of before ∪ after. */
  diff: { column: string; before: unknown; after: unknown; changed: boolean }[];
}

/** A dead-letter copy: the headers the processor's DLQ writes, read as such. */
export interface DlqInfo {
  error: string | null;
  sourceTopic: string | null;
  sourcePartition: number | null;
  sourceOffset: string | null;
}

export interface Message {
  topic: string;
  partition: number;
  offset: string;
  timestamp: string;
  key: Decoded;
  value: Decoded;
  headers: { name: string; value: string }[];
  sizeBytes: number;
  change: Change | null;
  dlq: DlqInfo | null;
}

/**
 * GET /api/topics/:topic/messages?partition=0&offset=N|timestamp=ISO&limit=50
 * Newest first: without offset/timestamp the page ends at the high watermark; with
 * them it ends at that position. `partition` omitted: every partition.
 */
export interface MessagePage {
  messages: Message[];
  /** For the next (older) page: pass as offset, per partition. */
  older: { partition: number; offset: string }[];
}

/**
 * GET /api/topics/:topic/search?partition&key=&text=&field=after.user_id%3D922&limit=100&scan=100000
 * Server-sent events, newest first: `progress` {scanned,total,matched} at most every 100 ms,
 * `match` Message, `done` {scanned,total,matched,ms}, `error` {detail}.
 */
export interface SearchProgress {
  scanned: number;
  total: number;
  matched: number;
  ms?: number;
}

/** GET /api/messages/:topic/:partition/:offset  (404 if gone) */
export type SingleMessage = Message;

/** GET /api/messages/:topic/:partition/:offset/rows — the message's row in both stores. */
export interface RowsView {
  table: string | null;
  key: Record<string, unknown> | null;
  postgres: { database: string; sql: string; rows: Record<string, unknown>[]; error?: string } | null;
  clickhouse: { sql: string; rows: Record<string, unknown>[]; error?: string } | null;
}

/** GET /api/groups */
export interface GroupSummary {
  group: string;
  state: string;
  members: number;
  topics: string[];
  totalLag: number | null;
}
/** GET /api/groups/:group — lag history sampled by the server every 5 s (last 30 min). */
export interface GroupDetail {
  group: string;
  state: string;
  protocolType: string;
  members: { memberId: string; clientId: string; host: string }[];
  partitions: { topic: string; partition: number; committed: number | null; high: number | null; lag: number | null; member: string | null }[];
  totalLag: number | null;
  history: { at: string; lag: number | null }[];
}

/** GET /api/connectors */
export interface ConnectorView {
  name: string;
  type: string;
  state: string;
  workerId: string | null;
  trace: string | null;
  tasks: { id: number; state: string; workerId: string | null; trace: string | null }[];
}
/**
 * POST /api/connectors/:name/(pause|resume|restart|restart-failed), header
 * `Authorization: Bearer <CONSOLE_TOKEN>`. 202 {status: ConnectorView}.
 * 401 without a valid token; 403 when the server has no token configured.
 */
export type ConnectorAction = 'pause' | 'resume' | 'restart' | 'restart-failed';

/** GET /api/slots */
export interface SlotsView {
  maxRetainedBytes: number;
  slots: {
    database: string;
    slot: string;
    plugin: string | null;
    active: boolean;
    walStatus: string | null;
    confirmedFlushLsn: string | null;
    retainedBytes: number | null;
    behindBytes: number | null;
    alerts: string[];
  }[];
  errors: { database: string; error: string }[];
}

/** GET /api/session — what the page may offer. */
export interface SessionInfo {
  writeEnabled: boolean;
  links: { name: string; url: string }[];
}

/** POST /api/sql {query, queryId} — run as the read-only analyst user. */
export interface SqlRequest {
  query: string;
  /** Chosen by the page so that it can cancel: POST /api/sql/:queryId/cancel. */
  queryId: string;
}
export interface SqlResult {
  queryId: string;
  columns: { name: string; type: string }[];
  rows: unknown[][];
  /** More rows than the page shows (10,000): download as CSV for all. */
  truncated: boolean;
  stats: { elapsedMs: number; rows: number; readRows: number; readBytes: number };
}
/** GET /api/sql/csv?query=… — CSVWithNames download, same user and limits. */
/** GET /api/sql/schema — for completion. */
export interface SqlSchema {
  databases: { name: string; tables: { name: string; engine: string; columns: { name: string; type: string }[] }[] }[];
}
/** GET /api/sql/cookbook */
export interface CookbookEntry {
  name: string;
  title: string;
  sql: string;
}

/** GET /api/trace/:uuid */
export interface TraceView {
  eventUuid: string;
  requestId: string | null;
  hops: { hop: string; where: string; at: string; lagMs: number | null; link: string | null }[];
  missing: string[];
  postgres: Record<string, unknown> | null;
  kafka: Message | null;
  clickhouse: Record<string, unknown>[];
}

/** GET /api/schemas */
export interface SubjectView {
  subject: string;
  versions: { version: number; id: number; schemaType: string; schema: string }[];
}
