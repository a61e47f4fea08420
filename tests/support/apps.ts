import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { freePort } from '../../scripts/lib/net.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

export interface RunningApp {
  url: string;
  stop(): Promise<void>;
  /** kill -9: no shutdown code runs. */
  kill(): Promise<void>;
}


/** Every consumer group a stream processor started with STREAM_PROCESSOR_GROUP=<prefix> may create: a test that starts one deletes them. */
export const processorGroups = (prefix: string): string[] => [`${prefix}-users`, `${prefix}-enrich`, `${prefix}-users-dead-lettered`];

/**
 * An app as its own process, as in production (its own event loop and pool), on a
 * free loopback port; resolves once GET /health answers.
 */
export async function startApp(
  app: 'crm-api' | 'telemetry-api' | 'stream-processor',
  env: Record<string, string> = {},
  opts: { /** Every line the app writes to stdout (its pino log lines). */ stdout?: (line: string) => void } = {},
): Promise<RunningApp> {
  const port = await freePort();
  const portVar = { 'crm-api': 'CRM_API_PORT', 'telemetry-api': 'TELEMETRY_API_PORT', 'stream-processor': 'STREAM_PROCESSOR_PORT' }[app];
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', `apps/${app}/src/main.ts`], {
    cwd: ROOT,
    env: { ...process.env, HOST: '127.0.0.1', [portVar]: String(port), LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', opts.stdout ? 'pipe' : 'ignore', 'pipe'],
  });
  if (opts.stdout) {
    const onLine = opts.stdout;
    createInterface({ input: child.stdout! }).on('line', onLine);
  }
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${app} exited with ${child.exitCode}: ${stderr}`);
    try {
      if ((await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) })).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${app} did not answer /health within 30 s: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await once(child, 'exit');
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}
