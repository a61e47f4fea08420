import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Component, Health } from '../component.js';
import type { StackConfig } from '../config.js';
import { isOurProcess, readPid, stopStarted } from '../proc.js';
import { ensureApicurioConverter, ensureDebeziumPlugin, ensureKafkaLib, launchJvm, propertiesFile } from './jvm.js';

const POSTGRES_CONNECTOR = 'io.debezium.connector.postgresql.PostgresConnector';
const AVRO_CONVERTER = 'io.apicurio.registry.utils.converter.AvroConverter';

/** The variables connectors/<name>-connector.json reads through the env config provider. */
export function connectorDatabaseEnv(prefix: 'CRM' | 'TELEMETRY', databaseUrl: string): Record<string, string> {
  const url = new URL(databaseUrl);
  return {
    [`${prefix}_DB_HOST`]: url.hostname,
    [`${prefix}_DB_PORT`]: url.port || '5432',
    [`${prefix}_DB_USER`]: decodeURIComponent(url.username),
    [`${prefix}_DB_PASSWORD`]: decodeURIComponent(url.password),
    [`${prefix}_DB_NAME`]: url.pathname.slice(1),
  };
}

/** Kafka Connect in distributed mode with the Debezium PostgreSQL plugin. */
export class KafkaConnect implements Component {
  readonly name = 'kafka-connect';
  readonly tier = 'infrastructure' as const;
  readonly address: string;
  readonly logFile: string;
  private readonly pidFile: string;
  private libDir = '';
  private pluginPath = '';

  constructor(private readonly config: StackConfig) {
    this.address = config.connect.url.origin;
    this.logFile = join(config.logDir, 'kafka-connect.log');
    this.pidFile = join(config.runDir, 'kafka-connect.pid');
  }

  private get marker(): string {
    return `-Dcdc.stack.component=kafka-connect@${this.config.stateDir}`;
  }

  private workerProperties(): string {
    const { url } = this.config.connect;
    // The worker, Debezium's producers and Connect's admin client all log in as
    // principal `connect` (scripts/stack/kafka-acl.ts); the password stays in the environment.
    const login = {
      'security.protocol': 'SASL_PLAINTEXT',
      'sasl.mechanism': 'SCRAM-SHA-512',
      'sasl.jaas.config': 'org.apache.kafka.common.security.scram.ScramLoginModule required username="connect" password="${env:KAFKA_CONNECT_PASSWORD}";',
    };
    const prefixed = (prefix: string) => Object.fromEntries(Object.entries(login).map(([k, v]) => [`${prefix}${k}`, v]));
    return propertiesFile({
      'bootstrap.servers': this.config.env.KAFKA_BROKERS.join(','),
      ...login,
      ...prefixed('producer.'),
      ...prefixed('consumer.'),
      ...prefixed('admin.'),
      'group.id': 'cdc-connect',
      // Connect creates these itself through the admin API, so auto-creation stays off.
      'config.storage.topic': 'connect-configs',
      'offset.storage.topic': 'connect-offsets',
      'status.storage.topic': 'connect-status',
      'config.storage.replication.factor': 1,
      'offset.storage.replication.factor': 1,
      'status.storage.replication.factor': 1,
      'offset.storage.partitions': 5,
      // Worker defaults; each connector states its own converters in connectors/*.json.
      'key.converter': 'org.apache.kafka.connect.json.JsonConverter',
      'value.converter': 'org.apache.kafka.connect.json.JsonConverter',
      'key.converter.schemas.enable': false,
      'value.converter.schemas.enable': false,
      // Source offsets (the confirmed LSN) are flushed often: after a crash Debezium
      // resumes from the last flush, so a short interval means fewer re-sent events.
      'offset.flush.interval.ms': 1000,
      listeners: `http://${url.hostname}:${url.port || 8083}`,
      'rest.advertised.host.name': url.hostname,
      'rest.advertised.port': url.port || 8083,
      'plugin.path': this.pluginPath,
      // Debezium reads its own properties from connector configs, not from here.
      'plugin.discovery': 'hybrid_warn',
      // connectors/*.json name their database as ${env:CRM_DB_HOST} and so on: each
      // deployment's worker knows how it reaches the databases, and no password is
      // ever stored in a connector config (connect-configs topic, REST answers).
      'config.providers': 'env',
      'config.providers.env.class': 'org.apache.kafka.common.config.provider.EnvVarConfigProvider',
    });
  }

  async install(): Promise<void> {
    this.libDir = await ensureKafkaLib(this.config);
    this.pluginPath = [await ensureDebeziumPlugin(this.config), await ensureApicurioConverter(this.config)].join(',');
    mkdirSync(this.config.connect.dir, { recursive: true });
    writeFileSync(join(this.config.connect.dir, 'connect-distributed.properties'), this.workerProperties());
  }

  pid(): number | undefined {
    const pid = readPid(this.pidFile);
    return isOurProcess(pid, this.marker) ? pid : undefined;
  }

  async health(): Promise<Health> {
    try {
      const res = await fetch(new URL('/connector-plugins?connectorsOnly=false', this.config.connect.url), {
        signal: AbortSignal.timeout(3000),
      });
      if (!res.ok) return { ok: false, detail: `GET /connector-plugins → ${res.status}` };
      const plugins = (await res.json()) as { class: string; version: string }[];
      const debezium = plugins.find((p) => p.class === POSTGRES_CONNECTOR);
      if (!debezium) return { ok: false, detail: 'REST up but the Debezium PostgreSQL plugin is not loaded' };
      if (!plugins.some((p) => p.class === AVRO_CONVERTER)) return { ok: false, detail: `REST up but ${AVRO_CONVERTER} is not loaded` };
      return { ok: true, detail: `REST up, Debezium PostgreSQL ${debezium.version}, Apicurio Avro converter` };
    } catch (err) {
      return { ok: false, detail: (err as Error).message };
    }
  }

  async start(): Promise<void> {
    const { url } = this.config.connect;
    await launchJvm({
      component: this.name,
      config: this.config,
      heap: this.config.env.CONNECT_HEAP,
      marker: this.marker,
      mainClass: 'org.apache.kafka.connect.cli.ConnectDistributed',
      args: [join(this.config.connect.dir, 'connect-distributed.properties')],
      libDir: this.libDir,
      cwd: this.config.connect.dir,
      logFile: this.logFile,
      pidFile: this.pidFile,
      host: url.hostname,
      port: Number(url.port || 8083),
      healthy: async () => (await this.health()).ok,
      timeoutS: this.config.env.STACK_WAIT_CONNECT_S,
      env: {
        ...connectorDatabaseEnv('CRM', this.config.env.CRM_DATABASE_URL),
        ...connectorDatabaseEnv('TELEMETRY', this.config.env.TELEMETRY_DATABASE_URL),
        // Apicurio's own API (its Avro converter speaks that, not the Confluent one).
        APICURIO_REGISTRY_URL: new URL('/apis/registry/v2', this.config.registry.url).href,
        KAFKA_CONNECT_PASSWORD: this.config.env.KAFKA_CONNECT_PASSWORD,
      },
    });
  }

  stop(): Promise<'stopped' | 'killed' | 'not running'> {
    return stopStarted(this.pidFile, this.marker, 30_000);
  }
}
