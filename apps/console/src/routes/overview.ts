import { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { OverviewSampler } from '../samplers/overview.js';

const EVERY_MS = 2_000;

/** The Overview page: one snapshot, or a snapshot every 2 s as server-sent events. */
export function overviewRoutes(sampler: OverviewSampler): Hono {
  const app = new Hono();
  app.get('/overview', async (c) => c.json(await sampler.snapshot()));
  app.get('/overview/stream', (c) =>
    streamSSE(c, async (sse) => {
      let open = true;
      sse.onAbort(() => {
        open = false;
      });
      while (open) {
        const snapshot = await sampler.snapshot();
        if (!open) break;
        await sse.writeSSE({ event: 'snapshot', data: JSON.stringify(snapshot) });
        await sse.sleep(EVERY_MS);
      }
    }),
  );
  return app;
}
