import { Hono } from 'hono';
import { problem, ProblemType } from './problem.js';

export interface ReadinessCheck {
  name: string;
  /** Resolves when the dependency answers; rejects (or times out) when it does not. */
  check: () => Promise<void>;
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * /health: the process is alive (never touches dependencies, so a database outage
 * does not get the process restarted). /ready: every dependency answers, else 503
 * naming the ones that do not.
 */
export function healthRoutes(service: string, checks: ReadinessCheck[], timeoutMs = 2000): Hono {
  const app = new Hono();
  app.get('/health', (c) => c.json({ status: 'ok', service }));
  app.get('/ready', async (c) => {
    const results = await Promise.all(
      checks.map(async ({ name, check }) => {
        try {
          await withTimeout(check(), timeoutMs, name);
          return { name, ok: true as const };
        } catch (err) {
          return { name, ok: false as const, error: (err as Error).message };
        }
      }),
    );
    const failed = results.filter((r) => !r.ok);
    if (failed.length === 0) return c.json({ status: 'ready', service, checks: results });
    return problem(c, {
      type: ProblemType.unavailable,
      title: 'Not ready',
      status: 503,
      detail: `unavailable: ${failed.map((f) => f.name).join(', ')}`,
      checks: results,
    });
  });
  return app;
}
