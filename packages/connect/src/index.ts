/**
 * The Kafka Connect REST client of the scripts, the tests and the console: apply
 * connector configs idempotently, read status and why a task failed, pause, resume,
 * restart.
 */
export interface ConnectorStatus {
  name: string;
  type?: string;
  connector: { state: string; worker_id?: string; trace?: string };
  tasks: { id: number; state: string; worker_id?: string; trace?: string }[];
}

export class ConnectError extends Error {
  constructor(message: string, readonly status?: number) {
    super(message);
    this.name = 'ConnectError';
  }
}

export class ConnectClient {
  constructor(private readonly base: URL | string) {}

  private async call<T>(method: string, path: string, body?: unknown): Promise<T | undefined> {
    const res = await fetch(new URL(path, this.base), {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    if (res.status === 404 && method === 'GET') return undefined;
    const text = await res.text();
    if (!res.ok) throw new ConnectError(`${method} ${path} → ${res.status}: ${text}`, res.status);
    return text ? (JSON.parse(text) as T) : undefined;
  }

  /** PUT /connectors/{name}/config creates or updates: applying the same config twice is a no-op. */
  async apply(name: string, config: Record<string, string>): Promise<void> {
    await this.call('PUT', `/connectors/${encodeURIComponent(name)}/config`, config);
  }

  /**
   * Creates a connector that starts from nothing: registered STOPPED (KIP-980), any
   * offsets a deleted namesake left in Connect's offsets topic are reset, then resumed.
   */
  async createFresh(name: string, config: Record<string, string>): Promise<void> {
    await this.call('POST', '/connectors', { name, config, initial_state: 'STOPPED' });
    await this.resetOffsets(name);
    await this.call('PUT', `/connectors/${encodeURIComponent(name)}/resume`);
  }

  private async resetOffsets(name: string, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        await this.call('DELETE', `/connectors/${encodeURIComponent(name)}/offsets`);
        return;
      } catch (err) {
        // 400 while a stop is still propagating to the tasks.
        if (!(err instanceof ConnectError && err.status === 400) || Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  async config(name: string): Promise<Record<string, string> | undefined> {
    return this.call<Record<string, string>>('GET', `/connectors/${encodeURIComponent(name)}/config`);
  }

  /** The source offsets Connect stores for the connector (Debezium's LSN), Connect ≥ 3.5 (KIP-875). */
  async offsets(name: string): Promise<unknown> {
    return this.call('GET', `/connectors/${encodeURIComponent(name)}/offsets`);
  }

  async status(name: string): Promise<ConnectorStatus | undefined> {
    return this.call<ConnectorStatus>('GET', `/connectors/${encodeURIComponent(name)}/status`);
  }

  async delete(name: string): Promise<void> {
    try {
      await this.call('DELETE', `/connectors/${encodeURIComponent(name)}`);
    } catch (err) {
      if (!(err instanceof ConnectError && err.status === 404)) throw err;
    }
  }

  /**
   * Deletes a connector together with its source offsets. Deleting alone keeps the
   * offsets in Connect's offsets topic, so a connector re-created under the same name
   * would resume from an LSN whose replication slot may be gone. Offsets can only be
   * reset while the connector is STOPPED (KIP-875), hence stop → reset → delete.
   */
  async deleteWithOffsets(name: string, timeoutMs = 30_000): Promise<void> {
    const path = `/connectors/${encodeURIComponent(name)}`;
    if ((await this.status(name)) === undefined) return;
    await this.call('PUT', `${path}/stop`);
    await this.resetOffsets(name, timeoutMs);
    await this.delete(name);
  }

  /** Restarts the connector and its failed tasks (KIP-745). */
  async restart(name: string): Promise<void> {
    await this.call('POST', `/connectors/${encodeURIComponent(name)}/restart?includeTasks=true&onlyFailed=true`);
  }

  /** PUT /connectors/{name}/pause: the connector and its tasks stop polling, offsets kept. */
  async pause(name: string): Promise<void> {
    await this.call('PUT', `/connectors/${encodeURIComponent(name)}/pause`);
  }

  async resume(name: string): Promise<void> {
    await this.call('PUT', `/connectors/${encodeURIComponent(name)}/resume`);
  }

  /** Restarts the connector and its tasks, all of them or only the failed ones (KIP-745). */
  async restartWith(name: string, opts: { onlyFailed: boolean }): Promise<void> {
    await this.call('POST', `/connectors/${encodeURIComponent(name)}/restart?includeTasks=true&onlyFailed=${opts.onlyFailed}`);
  }

  /** Every connector's status in one request (GET /connectors?expand=status). */
  async statuses(): Promise<ConnectorStatus[]> {
    const all = (await this.call<Record<string, { status: ConnectorStatus }>>('GET', '/connectors?expand=status')) ?? {};
    return Object.values(all)
      .map((x) => x.status)
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  async list(): Promise<string[]> {
    return (await this.call<string[]>('GET', '/connectors')) ?? [];
  }

  /**
   * Waits until the connector and all its tasks are RUNNING. A FAILED task ends the
   * wait with the task's stack trace, which is where the cause is: at once, or, right
   * after a restart (`afterRestart`), once the restart has visibly happened (another
   * state seen) or FAILED has stood for `graceMs` — the status endpoint goes on
   * reporting the old failure for a moment after a restart is accepted.
   */
  async waitRunning(name: string, timeoutMs = 60_000, opts: { afterRestart?: boolean; graceMs?: number } = {}): Promise<ConnectorStatus> {
    const deadline = Date.now() + timeoutMs;
    const graceUntil = opts.afterRestart ? Date.now() + (opts.graceMs ?? 20_000) : 0;
    let restartSeen = !opts.afterRestart;
    let last: ConnectorStatus | undefined;
    while (Date.now() < deadline) {
      last = await this.status(name).catch(() => undefined);
      if (last) {
        const failed = [last.connector, ...last.tasks].find((t) => t.state === 'FAILED');
        if (!failed) restartSeen = true;
        if (failed && (restartSeen || Date.now() >= graceUntil)) {
          throw new ConnectError(`connector ${name} FAILED:\n${failed.trace ?? '(no trace)'}`);
        }
        if (last.connector.state === 'RUNNING' && last.tasks.length > 0 && last.tasks.every((t) => t.state === 'RUNNING')) {
          return last;
        }
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    throw new ConnectError(`connector ${name} not RUNNING after ${timeoutMs / 1000}s: ${JSON.stringify(last)}`);
  }
}
