import { join } from 'node:path';
import type { Component, Health } from '../component.js';
import type { StackConfig } from '../config.js';
import { isOurProcess, launch, readPid, stopStarted } from '../proc.js';

export interface NodeServiceSpec {
  /** Node.js flags before the entry point (e.g. a heap limit). */
  nodeArgs?: string[];
  name: string;
  tier: Component['tier'];
  /** Entry module, relative to the repo root; run through tsx (no build step). */
  entry: string;
  host: string;
  port: number;
  healthPath: string;
  /** Sent with the health request (e.g. the credentials a query needs). */
  healthHeaders?: Record<string, string>;
  env: NodeJS.ProcessEnv;
  timeoutS: number;
  /** Optional extra check on the health response body. */
  expectBody?: (body: string) => boolean;
  prepare?: () => Promise<void>;
}

/** A TypeScript service of this repo run as a background process. */
export class NodeService implements Component {
  readonly name: string;
  readonly tier: Component['tier'];
  readonly address: string;
  readonly logFile: string;
  private readonly pidFile: string;
  private readonly entryPath: string;

  constructor(
    private readonly spec: NodeServiceSpec,
    private readonly config: StackConfig,
  ) {
    this.name = spec.name;
    this.tier = spec.tier;
    this.address = `http://${spec.host}:${spec.port}`;
    this.logFile = join(config.logDir, `${spec.name}.log`);
    this.pidFile = join(config.runDir, `${spec.name}.pid`);
    this.entryPath = join(config.root, spec.entry);
  }

  async install(): Promise<void> {
    await this.spec.prepare?.();
  }

  pid(): number | undefined {
    const pid = readPid(this.pidFile);
    // The absolute entry path is in the command line and names this checkout's service.
    return isOurProcess(pid, this.entryPath) ? pid : undefined;
  }

  async health(): Promise<Health> {
    try {
      const res = await fetch(`${this.address}${this.spec.healthPath}`, {
        signal: AbortSignal.timeout(3000),
        ...(this.spec.healthHeaders && { headers: this.spec.healthHeaders }),
      });
      const body = await res.text();
      const ok = res.ok && (this.spec.expectBody?.(body) ?? true);
      return { ok, detail: `GET ${this.spec.healthPath} → ${res.status}` };
    } catch (err) {
      return { ok: false, detail: (err as Error).message };
    }
  }

  async start(): Promise<void> {
    await launch({
      component: this.name,
      command: process.execPath,
      args: [...(this.spec.nodeArgs ?? []), '--import', 'tsx', this.entryPath],
      cwd: this.config.root,
      env: { ...process.env, ...this.spec.env },
      logFile: this.logFile,
      pidFile: this.pidFile,
      host: this.spec.host,
      port: this.spec.port,
      marker: this.entryPath,
      healthy: async () => (await this.health()).ok,
      timeoutS: this.spec.timeoutS,
    });
  }

  stop(): Promise<'stopped' | 'killed' | 'not running'> {
    // Services drain in-flight work on SIGTERM; SIGKILL only if they overrun.
    return stopStarted(this.pidFile, this.entryPath, 20_000);
  }
}
