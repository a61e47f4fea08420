import type { Component, Health } from '../component.js';
import type { StackConfig } from '../config.js';
import { StackError } from '../proc.js';

/**
 * CLICKHOUSE_MODE=external: a real ClickHouse server the stack does not own. It is
 * checked like any other component but never started or stopped from here.
 */
export class ExternalClickHouse implements Component {
  readonly name = 'clickhouse';
  readonly tier = 'infrastructure' as const;
  readonly address: string;
  readonly logFile = '(external server: see its own logs)';

  constructor(private readonly config: StackConfig) {
    this.address = `${config.clickhouse.url.origin} (external)`;
  }

  async install(): Promise<void> {}

  pid(): undefined {
    return undefined;
  }

  async health(): Promise<Health> {
    try {
      const res = await fetch(new URL('/ping', this.config.clickhouse.url), { signal: AbortSignal.timeout(3000) });
      return { ok: res.ok, detail: `GET /ping → ${res.status}` };
    } catch (err) {
      return { ok: false, detail: (err as Error).message };
    }
  }

  async start(): Promise<void> {
    throw new StackError(this.name, `external ClickHouse at ${this.config.clickhouse.url.origin} is not reachable, and the stack does not manage it (CLICKHOUSE_MODE=external)`);
  }

  async stop(): Promise<'not running'> {
    return 'not running';
  }
}
