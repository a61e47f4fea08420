import kafkajs, { type Admin, type Kafka } from 'kafkajs';

/**
 * Who may do what on the stack's broker (docs/security.md, "Kafka"). The broker denies
 * anything not listed here (`allow.everyone.if.no.acl.found=false`); the admin
 * principal (KAFKA_USER, the scripts' and tests') is a super user and needs no entry.
 * Debezium, through Connect, is the only writer of the change topics; ClickHouse and
 * the processor read theirs; the console reads and describes everything and writes nothing.
 * The eraser (the CRM API's erasure, packages/erasure) writes tombstones for an erased
 * user's key to the two topics that hold users' rows.
 */
export type Principal = 'connect' | 'clickhouse' | 'processor' | 'console' | 'eraser';

/** The variable holding each principal's password, in .env and the components' environment. */
export const PRINCIPAL_PASSWORD_VARS = {
  connect: 'KAFKA_CONNECT_PASSWORD',
  clickhouse: 'KAFKA_CLICKHOUSE_PASSWORD',
  processor: 'KAFKA_PROCESSOR_PASSWORD',
  console: 'KAFKA_CONSOLE_PASSWORD',
  eraser: 'KAFKA_ERASER_PASSWORD',
} as const satisfies Record<Principal, string>;

type Operation = 'ALL' | 'READ' | 'WRITE' | 'DESCRIBE' | 'DESCRIBE_CONFIGS';

export interface Grant {
  principal: Principal;
  resource: 'TOPIC' | 'GROUP' | 'CLUSTER';
  /** A topic or group name; with `prefixed`, every name starting with it; '*' is any. */
  name: string;
  prefixed?: boolean;
  operations: Operation[];
}

const DEBEZIUM_TOPICS = [
  'crm.public.users',
  'telemetry.public.telemetry_events',
  'avro.public.telemetry_events',
  '__debezium-heartbeat.crm',
  '__debezium-heartbeat.telemetry',
  'crm.debezium.heartbeat',
  'telemetry.debezium.heartbeat',
];
const CONNECT_INTERNAL_TOPICS = ['connect-configs', 'connect-offsets', 'connect-status'];
const PROCESSOR_READS = ['crm.public.users', 'telemetry.public.telemetry_events', 'avro.public.telemetry_events'];
const PROCESSOR_WRITES = [
  'analytics.telemetry_enriched',
  'crm.public.users.dlq',
  'telemetry.public.telemetry_events.dlq',
  'avro.public.telemetry_events.dlq',
];
/** Consumer groups: the Connect worker's (scripts/stack/components/connect.ts), ClickHouse's Kafka tables (clickhouse/*.sql), the processor's (STREAM_PROCESSOR_GROUP). */
export const GROUPS = { connect: 'cdc-connect', clickhouse: 'clickhouse-', processor: 'stream-processor' } as const;

export const GRANTS: Grant[] = [
  ...CONNECT_INTERNAL_TOPICS.map((name): Grant => ({ principal: 'connect', resource: 'TOPIC', name, operations: ['ALL'] })),
  ...DEBEZIUM_TOPICS.map((name): Grant => ({ principal: 'connect', resource: 'TOPIC', name, operations: ['WRITE', 'DESCRIBE'] })),
  { principal: 'connect', resource: 'GROUP', name: GROUPS.connect, operations: ['READ'] },
  ...['crm.public.users', 'telemetry.public.telemetry_events'].map(
    (name): Grant => ({ principal: 'clickhouse', resource: 'TOPIC', name, operations: ['READ'] }),
  ),
  { principal: 'clickhouse', resource: 'GROUP', name: GROUPS.clickhouse, prefixed: true, operations: ['READ'] },
  ...PROCESSOR_READS.map((name): Grant => ({ principal: 'processor', resource: 'TOPIC', name, operations: ['READ'] })),
  ...PROCESSOR_WRITES.map((name): Grant => ({ principal: 'processor', resource: 'TOPIC', name, operations: ['WRITE', 'DESCRIBE'] })),
  { principal: 'processor', resource: 'GROUP', name: GROUPS.processor, prefixed: true, operations: ['READ'] },
  { principal: 'console', resource: 'TOPIC', name: '*', operations: ['READ', 'DESCRIBE_CONFIGS'] },
  { principal: 'console', resource: 'GROUP', name: '*', operations: ['DESCRIBE'] },
  { principal: 'console', resource: 'CLUSTER', name: 'kafka-cluster', operations: ['DESCRIBE'] },
  ...['crm.public.users', 'crm.public.users.dlq'].map(
    (name): Grant => ({ principal: 'eraser', resource: 'TOPIC', name, operations: ['READ', 'WRITE', 'DESCRIBE', 'DESCRIBE_CONFIGS'] }),
  ),
];

interface AclBinding {
  resourceType: number;
  resourceName: string;
  resourcePatternType: number;
  principal: string;
  host: string;
  operation: number;
  permissionType: number;
}

/** One ALLOW binding per grant and operation, in the broker's own terms. */
export function bindings(grants: Grant[] = GRANTS): AclBinding[] {
  // kafkajs is CommonJS; Node's ESM loader does not see these exports by name.
  const { AclResourceTypes, AclOperationTypes, ResourcePatternTypes, AclPermissionTypes } = kafkajs;
  return grants.flatMap((g) =>
    g.operations.map((op) => ({
      resourceType: AclResourceTypes[g.resource],
      resourceName: g.name,
      resourcePatternType: g.prefixed ? ResourcePatternTypes.PREFIXED : ResourcePatternTypes.LITERAL,
      principal: `User:${g.principal}`,
      host: '*',
      operation: AclOperationTypes[op],
      permissionType: AclPermissionTypes.ALLOW,
    })),
  );
}

const key = (b: AclBinding) =>
  [b.resourceType, b.resourceName, b.resourcePatternType, b.principal, b.host, b.operation, b.permissionType].join('\u0000');

/**
 * Brings the broker's ACLs of the stack's principals to GRANTS: adds what is missing
 * and removes what a previous version granted and this one does not, so a narrowed
 * grant takes effect on the next `up`. Other principals' ACLs are left alone.
 */
export async function applyAcls(admin: Admin, grants: Grant[] = GRANTS): Promise<{ added: number; removed: number }> {
  const { AclResourceTypes, AclOperationTypes, ResourcePatternTypes, AclPermissionTypes } = kafkajs;
  const wanted = new Map(bindings(grants).map((b) => [key(b), b]));
  const ours = new Set(Object.keys(PRINCIPAL_PASSWORD_VARS).map((p) => `User:${p}`));
  const described = await admin.describeAcls({
    resourceType: AclResourceTypes.ANY,
    resourcePatternType: ResourcePatternTypes.ANY,
    operation: AclOperationTypes.ANY,
    permissionType: AclPermissionTypes.ANY,
  });
  const existing: AclBinding[] = described.resources.flatMap((r) =>
    r.acls.map((a) => ({
      resourceType: r.resourceType,
      resourceName: r.resourceName,
      resourcePatternType: r.resourcePatternType,
      principal: a.principal,
      host: a.host,
      operation: a.operation,
      permissionType: a.permissionType,
    })),
  );
  const have = new Set(existing.map(key));
  const missing = [...wanted.values()].filter((b) => !have.has(key(b)));
  const stale = existing.filter((b) => ours.has(b.principal) && !wanted.has(key(b)));
  if (missing.length > 0) await admin.createAcls({ acl: missing });
  if (stale.length > 0) await admin.deleteAcls({ filters: stale });
  return { added: missing.length, removed: stale.length };
}

/**
 * Grants for a test's or benchmark's own topics and groups (a connector with its own
 * topic prefix, a Kafka table of its own), taken back by the function it returns.
 */
export async function grantFor(kafka: Kafka, grants: Grant[]): Promise<() => Promise<void>> {
  const acl = bindings(grants);
  const withConnected = async (fn: (admin: Admin) => Promise<unknown>) => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      await fn(admin);
    } finally {
      await admin.disconnect();
    }
  };
  await withConnected((admin) => admin.createAcls({ acl }));
  return () => withConnected((admin) => admin.deleteAcls({ filters: acl }));
}
