import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ConnectClient, ConnectError, type ConnectorStatus } from '@cdc/connect';

/** connectors/*.json: Kafka Connect's own { name, config } shape, so `curl -d @file` works too. */
const ConnectorFile = z.strictObject({
  name: z.string().regex(/^[a-z0-9-]+$/),
  config: z.record(z.string(), z.string()),
});
export type ConnectorDefinition = z.infer<typeof ConnectorFile>;

export const CONNECTORS_DIR = path.resolve(import.meta.dirname, '../../connectors');

/** Every connector definition in connectors/, by file name order; a malformed file throws naming it. */
export function loadConnectorDefinitions(dir = CONNECTORS_DIR): ConnectorDefinition[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => {
      const file = path.join(dir, f);
      const parsed = ConnectorFile.safeParse(JSON.parse(readFileSync(file, 'utf8')));
      if (!parsed.success) throw new Error(`${file}: ${z.prettifyError(parsed.error)}`);
      return parsed.data;
    });
}

export async function waitForConnect(client: ConnectClient, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await client.list();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`Kafka Connect not reachable after ${timeoutMs / 1000}s: ${(err as Error).message}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

/**
 * Applies one definition idempotently and waits for RUNNING. PUT …/config creates the
 * connector or updates it (the same config again changes nothing); a connector or
 * task left FAILED by an earlier run is restarted, since a PUT of an unchanged config
 * would not. A FAILED state after that throws with the task's stack trace.
 */
export async function applyConnector(
  client: ConnectClient,
  def: ConnectorDefinition,
  timeoutMs = 120_000,
): Promise<ConnectorStatus> {
  await client.apply(def.name, def.config);
  const status = await client.status(def.name);
  const failed = status !== undefined && [status.connector, ...status.tasks].some((t) => t.state === 'FAILED');
  if (failed) await client.restart(def.name);
  return client.waitRunning(def.name, timeoutMs, { afterRestart: failed });
}

export { ConnectClient, ConnectError };
