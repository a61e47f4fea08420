import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Component, Health } from '../component.js';
import type { StackConfig } from '../config.js';
import { isOurProcess, launch, readPid, run, StackError, stopStarted } from '../proc.js';
import { javaCommand } from './jvm.js';

/**
 * Apicurio Registry 2.1.5 built from Maven Central (scripts/stack/registry/pom.xml),
 * serving the Confluent Schema Registry API under /apis/ccompat/v6 — what
 * @kafkajs/confluent-schema-registry and Connect's Avro converter talk to.
 *
 * Storage is an H2 file database in the stack's state dir, not the app's default
 * in-memory one: Avro messages in Kafka carry schema ids, and a registry that forgot
 * them on restart would make every earlier message undecodable. WRITE_DELAY=0 makes
 * each registration durable before it is answered (a kill -9 loses nothing).
 */
export class SchemaRegistry implements Component {
  readonly name = 'schema-registry';
  readonly tier = 'infrastructure' as const;
  readonly address: string;
  readonly logFile: string;
  private readonly pidFile: string;
  private readonly buildDir: string;

  constructor(private readonly config: StackConfig) {
    this.address = config.registry.url.href;
    this.logFile = join(config.logDir, 'schema-registry.log');
    this.pidFile = join(config.runDir, 'schema-registry.pid');
    this.buildDir = join(config.cacheDir, 'schema-registry-2.1.5');
  }

  private get marker(): string {
    return `-Dcdc.stack.component=schema-registry@${this.config.stateDir}`;
  }

  private get runJar(): string {
    return join(this.buildDir, 'quarkus-app', 'quarkus-run.jar');
  }

  async install(): Promise<void> {
    const marker = join(this.buildDir, '.complete');
    if (existsSync(marker)) return;
    mkdirSync(this.buildDir, { recursive: true });
    await run('maven', 'mvn', [
      '-q', '-B', '-f', join(this.config.root, 'scripts/stack/registry/pom.xml'),
      'package', '-DskipTests', `-Dregistry.build.dir=${this.buildDir}`,
    ]);
    if (!existsSync(this.runJar)) throw new StackError(this.name, `the Quarkus build left no ${this.runJar}`);
    writeFileSync(marker, new Date().toISOString());
  }

  pid(): number | undefined {
    const pid = readPid(this.pidFile);
    return isOurProcess(pid, this.marker) ? pid : undefined;
  }

  async health(): Promise<Health> {
    try {
      const res = await fetch(new URL('subjects', this.config.registry.url), { signal: AbortSignal.timeout(3000) });
      if (!res.ok) return { ok: false, detail: `GET subjects → ${res.status}` };
      const subjects = (await res.json()) as string[];
      return { ok: true, detail: `Confluent API up, ${subjects.length} subject(s)` };
    } catch (err) {
      return { ok: false, detail: (err as Error).message };
    }
  }

  async start(): Promise<void> {
    const { url, dir } = this.config.registry;
    mkdirSync(dir, { recursive: true });
    await launch({
      component: this.name,
      command: javaCommand(),
      args: [
        ...this.config.env.REGISTRY_HEAP.split(/\s+/).filter(Boolean),
        this.marker,
        `-Dquarkus.http.host=${url.hostname}`,
        `-Dquarkus.http.port=${url.port || 80}`,
        '-jar', this.runJar,
      ],
      cwd: dir,
      env: { ...process.env, REGISTRY_DATASOURCE_URL: `jdbc:h2:file:${join(dir, 'registry_db')};WRITE_DELAY=0` },
      logFile: this.logFile,
      pidFile: this.pidFile,
      host: url.hostname,
      port: Number(url.port || 80),
      marker: this.marker,
      healthy: async () => (await this.health()).ok,
      timeoutS: this.config.env.STACK_WAIT_REGISTRY_S,
      intervalMs: 500,
    });
  }

  stop(): Promise<'stopped' | 'killed' | 'not running'> {
    return stopStarted(this.pidFile, this.marker, 15_000);
  }
}
