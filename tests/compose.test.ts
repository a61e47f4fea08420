import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CONNECTORS_DIR, loadConnectorDefinitions } from '../scripts/lib/connectors.js';
import { PIPELINE_TOPICS } from '../scripts/stack/topics.js';
import { GRANTS } from '../scripts/stack/kafka-acl.js';
import { COMPOSE_ENV } from './support/secrets-env.js';

/**
 * docker-compose.yaml cannot run here (no Docker engine), but Debian's docker-compose
 * can still validate it, and its topology can be checked against the native stack's.
 */
interface Service {
  image?: string;
  environment?: Record<string, string>;
  build?: unknown;
  command?: string | string[];
  healthcheck?: { test: unknown };
  depends_on?: Record<string, { condition: string }>;
  ports?: { host_ip?: string; published?: number | string }[] | string[];
  deploy?: { resources?: { limits?: { memory?: string; cpus?: string } } };
  restart?: string;
}

const rendered = () =>
  parse(execFileSync('docker-compose', ['-f', 'docker-compose.yaml', 'config'], { encoding: 'utf8', env: COMPOSE_ENV })) as {
    services: Record<string, Service>;
    volumes: Record<string, unknown>;
  };

describe('docker-compose.yaml', () => {
  it('validates with docker-compose config -q', () => {
    // Throws (failing the test) with docker-compose's own message on any error.
    execFileSync('docker-compose', ['-f', 'docker-compose.yaml', 'config', '-q'], { stdio: 'pipe', env: COMPOSE_ENV });
  });

  it('has the native stack topology, every long-running service health-checked and limited', () => {
    const { services, volumes } = rendered();
    const longRunning = [
      'postgres-crm', 'postgres-telemetry', 'kafka', 'connect', 'schema-registry',
      'kafdrop', 'clickhouse', 'crm-api', 'telemetry-api', 'stream-processor', 'console', 'jaeger',
    ];
    for (const name of longRunning) {
      const s = services[name];
      expect(s, `service ${name}`).toBeDefined();
      expect(s!.healthcheck?.test, `${name} healthcheck`).toBeDefined();
      expect(s!.deploy?.resources?.limits?.memory, `${name} memory limit`).toBeDefined();
      if (s!.image) expect(s!.image, `${name} image is pinned`).not.toMatch(/:latest$|^[^:]+$/);
    }
    for (const pgName of ['postgres-crm', 'postgres-telemetry']) {
      expect(JSON.stringify(services[pgName]!.command)).toMatch(/wal_level=logical/);
    }
    expect(JSON.stringify(services.kafdrop!.ports)).toMatch(/9100/);
    // The console on the same port as natively (packages/config CONSOLE_PORT).
    expect(JSON.stringify(services.console!.ports)).toMatch(/127\.0\.0\.1:3005:3005/);
    expect(Object.keys(volumes).length).toBeGreaterThanOrEqual(4);
  });

  it('starts apps only after their infrastructure is healthy', () => {
    const { services } = rendered();
    for (const app of ['crm-api', 'telemetry-api', 'stream-processor', 'console']) {
      const deps = services[app]!.depends_on ?? {};
      expect(Object.keys(deps).length, `${app} depends_on`).toBeGreaterThan(0);
      for (const [dep, { condition }] of Object.entries(deps)) {
        expect(condition, `${app} → ${dep}`).toBe('service_healthy');
      }
    }
    expect(services.connect!.depends_on?.kafka?.condition).toBe('service_healthy');
  });

  it('runs Jaeger on loopback ports and sends the apps’ traces to it without making them wait for it', () => {
    const { services } = rendered();
    const jaeger = services.jaeger!;
    const ports = JSON.stringify(jaeger.ports);
    expect(ports).toMatch(/127\.0\.0\.1:16686:16686/);
    expect(ports).toMatch(/127\.0\.0\.1:4318:4318/);
    for (const app of ['crm-api', 'telemetry-api', 'stream-processor']) {
      const environment = services[app]!.environment ?? {};
      expect(environment.OTEL_TRACES_EXPORTER, app).toBe('otlp');
      expect(environment.OTEL_EXPORTER_OTLP_ENDPOINT, app).toBe('http://jaeger:4318');
      // A collector that is down must never keep an app from starting.
      expect(Object.keys(services[app]!.depends_on ?? {}), app).not.toContain('jaeger');
    }
  });

  it('binds every published port to 127.0.0.1', () => {
    const { services } = rendered();
    for (const [name, s] of Object.entries(services)) {
      for (const p of s.ports ?? []) expect(typeof p === 'string' ? p : `${p.host_ip}:${p.published}`, name).toMatch(/^127\.0\.0\.1:/);
    }
  });

  it('kafka-init creates the topics of the native stack with the same configs', () => {
    const { services } = rendered();
    const script = JSON.stringify(services['kafka-init']!.command);
    const created = [...script.matchAll(/create ([\w.-]+) (\d+)((?: --config [\w.]+=[\w,]+)*)/g)].map((m) => ({
      topic: m[1],
      partitions: Number(m[2]),
      configs: [...m[3]!.matchAll(/--config ([\w.]+=[\w,]+)/g)].map((c) => c[1]).sort(),
    }));
    const expected = PIPELINE_TOPICS.map((t) => ({
      topic: t.topic,
      partitions: t.numPartitions,
      configs: (t.configEntries ?? []).map((e) => `${e.name}=${e.value}`).sort(),
    }));
    const byName = (a: { topic?: string }, b: { topic?: string }) => (a.topic! < b.topic! ? -1 : 1);
    expect(created.sort(byName)).toEqual(expected.sort(byName));
  });

  it('gives Kafka Connect every ${env:…} variable the connector configs use', () => {
    const { services } = rendered();
    const environment = services.connect!.environment ?? {};
    expect(environment.CONNECT_CONFIG_PROVIDERS).toBe('env');
    const used = new Set(
      [...loadConnectorDefinitions(), ...loadConnectorDefinitions(path.join(CONNECTORS_DIR, 'avro'))].flatMap((d) =>
        [...JSON.stringify(d.config).matchAll(/\$\{env:(\w+)\}/g)].map((m) => m[1]!),
      ),
    );
    expect(used.size).toBeGreaterThan(0);
    for (const name of used) expect(environment[name], name).toBeTruthy();
  });

  it('asks every Kafka client to log in, and grants the same ACLs as the native stack', () => {
    const { services } = rendered();
    const kafka = services.kafka!.environment!;
    expect(kafka.KAFKA_LISTENER_SECURITY_PROTOCOL_MAP).not.toMatch(/:PLAINTEXT\b/);
    expect(kafka.KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND).toBe('false');
    expect(kafka.KAFKA_AUTHORIZER_CLASS_NAME).toMatch(/StandardAuthorizer/);
    for (const [name, user] of [['stream-processor', 'processor'], ['console', 'console'], ['crm-api', 'eraser']] as const) {
      expect(services[name]!.environment!.KAFKA_USER, name).toBe(user);
      expect(services[name]!.environment!.KAFKA_PASSWORD, name).toBeTruthy();
    }
    expect(services.connect!.environment!.CONNECT_PRODUCER_SASL_JAAS_CONFIG).toMatch(/username="connect"/);

    // kafka-init's `allow <principal> <kind> <name> <Ops> [prefixed]` lines, in kafka-acl.ts's terms.
    const script = (services['kafka-init']!.command as string[]).join('\n');
    const op = (o: string) => o.replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase();
    const granted = [...script.matchAll(/^\s*allow (\w+) (topic|group|cluster) '?([^'\s]+)'? ([\w,]+)( prefixed)?$/gm)].map((m) => ({
      principal: m[1],
      resource: m[2]!.toUpperCase(),
      name: m[3],
      prefixed: Boolean(m[5]),
      operations: m[4]!.split(',').map(op).sort(),
    }));
    const expected = GRANTS.map((g) => ({ ...g, prefixed: Boolean(g.prefixed), operations: [...g.operations].sort() }));
    const order = (a: { principal?: string; resource: string; name?: string }) => `${a.principal} ${a.resource} ${a.name}`;
    expect(granted.sort((a, b) => order(a).localeCompare(order(b)))).toEqual(expected.sort((a, b) => order(a).localeCompare(order(b))));
  });

  it('publishes no service that cannot ask for a credential (Connect, the registry)', () => {
    const { services } = rendered();
    expect(services.connect!.ports ?? []).toEqual([]);
    expect(services['schema-registry']!.ports ?? []).toEqual([]);
    expect(services['connect-init']!.depends_on?.connect?.condition).toBe('service_healthy');
  });
});
