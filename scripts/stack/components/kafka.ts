import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import kafkajs, { Kafka, logLevel } from 'kafkajs';
import type { Component, Health } from '../component.js';
import type { StackConfig } from '../config.js';
import { isOurProcess, readPid, run, stopStarted } from '../proc.js';
import { PIPELINE_TOPICS } from '../topics.js';
import { applyAcls } from '../kafka-acl.js';
import { adminCredential, scramCredentials, scramLogsIn, writeScram } from '../kafka-credentials.js';
import { ensureKafkaLib, javaCommand, launchJvm, propertiesFile } from './jvm.js';

const PLAIN = 'org.apache.kafka.common.security.plain.PlainLoginModule required';

/**
 * Single-node Kafka 4 in KRaft combined mode (broker + controller in one JVM). Both
 * listeners require SASL and an authorizer denies what scripts/stack/kafka-acl.ts does
 * not grant; how each principal logs in: scripts/stack/kafka-credentials.ts.
 */
export class KafkaBroker implements Component {
  readonly name = 'kafka';
  readonly tier = 'infrastructure' as const;
  readonly address: string;
  readonly logFile: string;
  private readonly pidFile: string;
  private readonly dataDir: string;
  private libDir = '';

  constructor(private readonly config: StackConfig) {
    const { host, port } = config.kafka;
    this.address = `${host}:${port}`;
    this.logFile = join(config.logDir, 'kafka.log');
    this.pidFile = join(config.runDir, 'kafka.pid');
    this.dataDir = join(config.kafka.dir, 'data');
  }

  private get marker(): string {
    return `-Dcdc.stack.component=kafka@${this.config.stateDir}`;
  }

  private serverProperties(): string {
    const { host, port, controllerPort } = this.config.kafka;
    const admin = this.config.env.KAFKA_USER;
    return propertiesFile({
      'process.roles': 'broker,controller',
      'node.id': 1,
      'controller.quorum.voters': `1@${host}:${controllerPort}`,
      listeners: `SASL_PLAINTEXT://${host}:${port},CONTROLLER://${host}:${controllerPort}`,
      'advertised.listeners': `SASL_PLAINTEXT://${host}:${port}`,
      'controller.listener.names': 'CONTROLLER',
      'listener.security.protocol.map': 'SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT',
      'inter.broker.listener.name': 'SASL_PLAINTEXT',
      'sasl.enabled.mechanisms': 'SCRAM-SHA-512,PLAIN',
      // The broker's own connections log in with PLAIN, whose passwords come from this
      // file's environment: SCRAM's live in the metadata the controller is still loading.
      'sasl.mechanism.inter.broker.protocol': 'PLAIN',
      'sasl.mechanism.controller.protocol': 'PLAIN',
      'listener.name.controller.sasl.enabled.mechanisms': 'PLAIN',
      'listener.name.controller.plain.sasl.jaas.config': `${PLAIN} username="${admin}" password="\${env:KAFKA_PASSWORD}" user_${admin}="\${env:KAFKA_PASSWORD}";`,
      // PLAIN on the client listener: the admin, and ClickHouse, whose librdkafka has no SCRAM.
      'listener.name.sasl_plaintext.plain.sasl.jaas.config':
        `${PLAIN} username="${admin}" password="\${env:KAFKA_PASSWORD}" user_${admin}="\${env:KAFKA_PASSWORD}" user_clickhouse="\${env:KAFKA_CLICKHOUSE_PASSWORD}";`,
      'listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config': 'org.apache.kafka.common.security.scram.ScramLoginModule required;',
      // Passwords are read from the JVM's environment, never written into this file.
      'config.providers': 'env',
      'config.providers.env.class': 'org.apache.kafka.common.config.provider.EnvVarConfigProvider',
      'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
      'super.users': `User:${admin}`,
      'allow.everyone.if.no.acl.found': false,
      'log.dirs': this.dataDir,
      'num.partitions': 1,
      // Topics are created explicitly (scripts/stack/topics.ts); a misspelt name must fail.
      'auto.create.topics.enable': false,
      'offsets.topic.replication.factor': 1,
      'transaction.state.log.replication.factor': 1,
      'transaction.state.log.min.isr': 1,
      'share.coordinator.state.topic.replication.factor': 1,
      'share.coordinator.state.topic.min.isr': 1,
      // One broker: no reason to delay the first consumer group's rebalance.
      'group.initial.rebalance.delay.ms': 0,
      'log.retention.hours': 168,
      // How long an idle cleaner waits before looking again: part of the erasure's bound
      // on Kafka (scripts/stack/topics.ts, USER_COMPACTION_LAG_MS).
      'log.cleaner.backoff.ms': 5_000,
    });
  }

  async install(): Promise<void> {
    this.libDir = await ensureKafkaLib(this.config);
    mkdirSync(this.config.kafka.dir, { recursive: true });
    const props = join(this.config.kafka.dir, 'server.properties');
    writeFileSync(props, this.serverProperties());
    if (existsSync(join(this.dataDir, 'meta.properties'))) return;
    // The cluster id is kept so a re-format after a partial failure reuses it.
    const idFile = join(this.config.kafka.dir, 'cluster.id');
    if (!existsSync(idFile) || readFileSync(idFile, 'utf8').startsWith('-')) writeFileSync(idFile, newClusterId());
    const clusterId = readFileSync(idFile, 'utf8').trim();
    await run(this.name, javaCommand(), [
      '-cp', `${this.libDir}/*`,
      `-Dlog4j2.configurationFile=${join(this.config.root, 'scripts/stack/maven/log4j2.yaml')}`,
      'kafka.tools.StorageTool', 'format', `--cluster-id=${clusterId}`, '-c', props,
    ]);
  }

  pid(): number | undefined {
    const pid = readPid(this.pidFile);
    return isOurProcess(pid, this.marker) ? pid : undefined;
  }

  private client() {
    const admin = adminCredential(this.config);
    return new Kafka({
      clientId: 'stack-health',
      brokers: [this.address],
      // PLAIN: the one login that works before any SCRAM credential exists.
      sasl: { mechanism: 'plain', username: admin.user, password: admin.password },
      logLevel: logLevel.NOTHING,
      connectionTimeout: 2000,
      requestTimeout: 5000,
      retry: { retries: 0 },
    });
  }

  async health(): Promise<Health> {
    const admin = this.client().admin();
    try {
      await admin.connect();
      const cluster = await admin.describeCluster();
      return { ok: cluster.brokers.length > 0, detail: `${cluster.brokers.length} broker(s), controller ${cluster.controller}` };
    } catch (err) {
      return { ok: false, detail: (err as Error).message };
    } finally {
      await admin.disconnect().catch(() => {});
    }
  }

  async start(): Promise<void> {
    await launchJvm({
      component: this.name,
      config: this.config,
      heap: this.config.env.KAFKA_HEAP,
      marker: this.marker,
      mainClass: 'kafka.Kafka',
      args: [join(this.config.kafka.dir, 'server.properties')],
      libDir: this.libDir,
      cwd: this.config.kafka.dir,
      logFile: this.logFile,
      pidFile: this.pidFile,
      host: this.config.kafka.host,
      port: this.config.kafka.port,
      healthy: async () => (await this.health()).ok,
      timeoutS: this.config.env.STACK_WAIT_KAFKA_S,
      env: { KAFKA_PASSWORD: this.config.env.KAFKA_PASSWORD, KAFKA_CLICKHOUSE_PASSWORD: this.config.env.KAFKA_CLICKHOUSE_PASSWORD },
    });
  }

  /**
   * Creates the pipeline's missing topics and brings the configs an existing one
   * declares (cleanup.policy) to what topics.ts says, so a stack created by an older
   * checkout converges. Partition counts are never changed: that would move keys.
   */
  async afterStart(): Promise<void> {
    await this.alignScram();
    const admin = this.client().admin();
    await admin.connect();
    try {
      await applyAcls(admin);
      const existing = new Set(await admin.listTopics());
      const missing = PIPELINE_TOPICS.filter((t) => !existing.has(t.topic));
      if (missing.length > 0) await admin.createTopics({ topics: missing, waitForLeaders: true });
      const configured = PIPELINE_TOPICS.filter((t) => existing.has(t.topic) && t.configEntries?.length);
      if (configured.length > 0) {
        await admin.alterConfigs({
          validateOnly: false,
          resources: configured.map((t) => ({
            // kafkajs is CommonJS; Node's ESM loader does not see this export by name.
            type: kafkajs.ConfigResourceTypes.TOPIC,
            name: t.topic,
            configEntries: t.configEntries!,
          })),
        });
      }
    } finally {
      await admin.disconnect();
    }
  }

  /**
   * Makes every SCRAM login of .env work: on a new cluster none exists yet, and a
   * password changed in .env replaces the old one. Kafka's tool starts a JVM, so it
   * runs only for a login that fails.
   */
  private async alignScram(): Promise<void> {
    for (const credential of scramCredentials(this.config)) {
      if (await scramLogsIn(this.address, credential)) continue;
      this.libDir ||= await ensureKafkaLib(this.config);
      await writeScram(this.config, this.libDir, this.address, credential);
    }
  }

  stop(): Promise<'stopped' | 'killed' | 'not running'> {
    // Controlled shutdown flushes logs and avoids a slow log recovery on the next start.
    return stopStarted(this.pidFile, this.marker, 60_000);
  }
}

/**
 * 16 random bytes in URL-safe base64, like Kafka's Uuid.randomUuid, which also
 * never returns one starting with '-': command-line tools would read it as an option
 * (StorageTool did, in about one fresh state directory in 64, and the saved id made
 * every later `up` fail the same way).
 */
export function newClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}
