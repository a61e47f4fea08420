import { join } from 'node:path';
import type { Component, Health } from '../component.js';
import type { StackConfig } from '../config.js';
import { isOurProcess, portInUse, readPid, removeFile, spawnDetached, StackError, stopPid, waitFor } from '../proc.js';

export interface NodeServiceSpec {
  name: string;
  tier: Component['tier'];
  /** Entry module, relative to the repo root; run through tsx (no build step). */
  entry: string;
  host: string;
  port: number;
  healthPath: string;
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
      const res = await fetch(`${this.address}${this.spec.healthPath}`, { signal: AbortSignal.timeout(3000) });
      const body = await res.text();
      const ok = res.ok && (this.spec.expectBody?.(body) ?? true);
      return { ok, detail: `GET ${this.spec.healthPath} → ${res.status}` };
    } catch (err) {
      return { ok: false, detail: (err as Error).message };
    }
  }

  async start(): Promise<void> {
    if (await portInUse(this.spec.host, this.spec.port)) {
      throw new StackError(this.name, `port ${this.spec.port} is already taken by a process this stack did not start`, this.logFile);
    }
    const pid = spawnDetached({
      component: this.name,
      command: process.execPath,
      args: ['--import', 'tsx', this.entryPath],
      cwd: this.config.root,
      env: { ...process.env, ...this.spec.env },
      logFile: this.logFile,
      pidFile: this.pidFile,
    });
    await waitFor(this.name, async () => (await this.health()).ok, {
      timeoutS: this.spec.timeoutS,
      logFile: this.logFile,
      alive: () => isOurProcess(pid, this.entryPath),
    });
  }

  async stop(): Promise<'stopped' | 'killed' | 'not running'> {
    const pid = this.pid();
    if (pid === undefined) return 'not running';
    // Services drain in-flight work on SIGTERM; SIGKILL only if they overrun.
    const result = await stopPid(pid, 20_000);
    removeFile(this.pidFile);
    return result;
  }
}
