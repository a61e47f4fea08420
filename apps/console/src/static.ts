import { readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Hono } from 'hono';
import { serveStatic } from '@hono/node-server/serve-static';

/**
 * The built front end: hashed assets cached for a year, every other path answered
 * with index.html so that a deep link (/kafka/topics/x/messages/0/12) opens the page
 * the browser asked for. Until the front end is built (npm run build:web -w
 * apps/console) pages answer 503 saying so. index.html is read again whenever it
 * changed, so a rebuild under a running console serves the new assets' names.
 */
export function webRoutes(webDir: string): Hono {
  const app = new Hono();
  const index = join(webDir, 'index.html');
  let cached: { mtimeMs: number; html: string } | undefined;
  const page = (): string | undefined => {
    const mtimeMs = statSync(index, { throwIfNoEntry: false })?.mtimeMs;
    if (mtimeMs === undefined) return undefined;
    if (cached?.mtimeMs !== mtimeMs) cached = { mtimeMs, html: readFileSync(index, 'utf8') };
    return cached.html;
  };
  app.use('/assets/*', async (c, next) => {
    await next();
    if (c.res.status === 200) c.header('cache-control', 'public, max-age=31536000, immutable');
  });
  // serveStatic resolves its root against the working directory.
  app.use('*', serveStatic({ root: relative(process.cwd(), webDir) || '.' }));
  app.get('/assets/*', (c) => c.text('no such asset\n', 404));
  app.get('*', (c) => {
    const html = page();
    if (html === undefined) {
      return c.text(`The console's front end is not built: run npm run build:web -w apps/console (looked for ${index}).\n`, 503);
    }
    c.header('cache-control', 'no-cache');
    return c.html(html);
  });
  return app;
}
