import { Hono } from 'hono';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createApiApp, createHttpMetrics, DOCS_CSP, swaggerDocsRoutes } from '../src/index.js';
import { expectOfflineDocs, isSameOrigin, referencedUrls } from './offline-docs.js';
import { AUTH_OFF } from './auth-off.js';

function docsApp(opts: Parameters<typeof swaggerDocsRoutes>[0] = { title: 'Test API' }) {
  const app = new Hono();
  app.route('/', swaggerDocsRoutes(opts));
  app.get('/openapi.json', (c) => c.json({ openapi: '3.1.0', info: { title: 'x', version: '0' }, paths: {} }));
  app.get('/spec/v2.json', (c) => c.json({ openapi: '3.1.0', info: { title: 'x', version: '0' }, paths: {} }));
  return app;
}

describe('swaggerDocsRoutes: Swagger UI from swagger-ui-dist, nothing from elsewhere', () => {
  it('the page references only same-origin files, each served with its content type', async () => {
    const app = docsApp();
    const assets = await expectOfflineDocs((p, i) => app.request(p, i));
    expect(assets).toEqual(
      expect.arrayContaining([
        '/docs/swagger-ui.css',
        '/docs/swagger-ui-bundle.js',
        '/docs/swagger-ui-standalone-preset.js',
        '/docs/swagger-initializer.js',
        '/docs/favicon-32x32.png',
      ]),
    );
  });

  it('createApiApp serves the same offline page for its /openapi.json', async () => {
    const app = createApiApp({
      service: 'test',
      title: 'Test API',
      version: '0.0.0',
      description: 'test',
      log: pino({ level: 'silent' }),
      metrics: createHttpMetrics('test'),
      readiness: [],
      maxBodyBytes: 1024,
      auth: AUTH_OFF,
    });
    await expectOfflineDocs((p, i) => app.request(p, i));
    expect((await app.request('/docs')).headers.get('content-security-policy')).toBe(DOCS_CSP);
  });

  it('the page: a CSP limiting it to its origin, revalidated on every load, title escaped', async () => {
    const res = await docsApp({ title: 'A <b>&</b> "API"' }).request('/docs');
    const csp = res.headers.get('content-security-policy')!;
    for (const directive of ["default-src 'none'", "script-src 'self'", "connect-src 'self'", "img-src 'self' data:"]) expect(csp).toContain(directive);
    expect(csp).not.toMatch(/https?:|\*/);
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await res.text()).toContain('<title>A &lt;b&gt;&amp;&lt;/b&gt; &quot;API&quot;</title>');
  });

  it('package files are cached for a day and revalidate with their ETag (304)', async () => {
    const app = docsApp();
    const res = await app.request('/docs/swagger-ui-bundle.js');
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('public, max-age=86400');
    const etag = res.headers.get('etag')!;
    expect(etag).toMatch(/^"[\w-]+"$/);
    const again = await app.request('/docs/swagger-ui-bundle.js', { headers: { 'if-none-match': `W/"other", ${etag}` } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
    expect((await app.request('/docs/swagger-ui-bundle.js', { headers: { 'if-none-match': '"stale"' } })).status).toBe(200);
    expect((await app.request('/docs/swagger-initializer.js')).headers.get('cache-control')).toBe('no-cache');
  });

  it('serves only the files the page needs; /docs/ redirects to /docs', async () => {
    const app = docsApp();
    for (const path of ['/docs/index.html', '/docs/swagger-ui.js.map', '/docs/../package.json', '/docs/absolute-path.js']) {
      expect((await app.request(path)).status, path).toBe(404);
    }
    const slash = await app.request('/docs/');
    expect(slash.status).toBe(301);
    expect(slash.headers.get('location')).toBe('/docs');
  });

  it('another path and spec URL', async () => {
    const app = docsApp({ title: 'v2', path: '/v2/docs', specUrl: '/spec/v2.json' });
    const assets = await expectOfflineDocs((p, i) => app.request(p, i), { docsPath: '/v2/docs', specUrl: '/spec/v2.json' });
    expect(assets).toContain('/v2/docs/swagger-ui-bundle.js');
    expect((await app.request('/docs')).status).toBe(404);
  });
});

describe('the offline check itself', () => {
  it('finds every kind of reference and tells same-origin from not', () => {
    const html = `<link href="/a.css"><script src='b.js'></script><img srcset="/c.png 1x, https://x.test/d.png 2x"><div style="background:url(//cdn.test/e.png)">`;
    expect(referencedUrls(html)).toEqual(expect.arrayContaining(['/a.css', 'b.js', '/c.png', 'https://x.test/d.png', '//cdn.test/e.png']));
    expect(['/a.css', 'b.js', './c.png', '../d.js', 'data:image/png;base64,AA'].every((u) => isSameOrigin(u, '/docs'))).toBe(true);
    expect(['https://unpkg.com/x.js', '//cdn.test/e.png', 'http://127.0.0.1:2/x.js'].some((u) => isSameOrigin(u, '/docs'))).toBe(false);
  });

  it('fails a page that loads Swagger UI from a CDN', async () => {
    const app = new Hono();
    app.get('/docs', (c) => c.html('<script src="https://cdn.jsdelivr.net/npm/swagger-ui-dist/swagger-ui-bundle.js"></script>'));
    await expect(expectOfflineDocs((p, i) => app.request(p, i))).rejects.toThrow();
  });
});
