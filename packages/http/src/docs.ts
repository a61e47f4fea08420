import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Hono, type Context } from 'hono';

/**
 * Swagger UI served from the swagger-ui-dist package, so /docs renders with nothing
 * beyond loopback: no CDN, no fonts, no favicon from elsewhere, no validator badge
 * (validatorUrl: null). The page loads only same-origin files:
 *
 *   GET {path}                                   the HTML page (a CSP limits it to 'self')
 *   GET {path}/swagger-ui.css                    }
 *   GET {path}/index.css                         }
 *   GET {path}/swagger-ui-bundle.js              } swagger-ui-dist's files, as published
 *   GET {path}/swagger-ui-standalone-preset.js   }
 *   GET {path}/favicon-32x32.png, -16x16.png     }
 *   GET {path}/swagger-initializer.js            the init script (a file, not inline: the CSP has no 'unsafe-inline' for scripts)
 *
 * The package's files change only with its version: they are cached for a day and
 * carry an ETag (If-None-Match → 304). The page and the init script are revalidated
 * on every load (no-cache + ETag).
 */

const require = createRequire(import.meta.url);
// absolute-path.js is what swagger-ui-dist exports as getAbsoluteFSPath; requiring it
// directly keeps the 1.8 MB browser bundle (index.js requires it) out of this process.
const getAbsoluteFSPath = require('swagger-ui-dist/absolute-path.js') as () => string;

export const DOCS_CONTENT_TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.png': 'image/png',
} as const;

/** The files of swagger-ui-dist the page references, served under the docs path. */
export const SWAGGER_UI_ASSETS = [
  'swagger-ui.css',
  'index.css',
  'swagger-ui-bundle.js',
  'swagger-ui-standalone-preset.js',
  'favicon-32x32.png',
  'favicon-16x16.png',
] as const;

const INITIALIZER = 'swagger-initializer.js';

/**
 * Everything the page may load comes from this origin. Swagger UI sets inline styles
 * (hence style-src 'unsafe-inline') and shows data: images; "Try it out" and the spec
 * fetch are same-origin (connect-src 'self').
 */
export const DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'self'",
].join('; ');

const ASSET_CACHE = 'public, max-age=86400';
const PAGE_CACHE = 'no-cache';

interface Served {
  body: Uint8Array<ArrayBuffer>;
  etag: string;
  type: string;
  cache: string;
}

function served(body: Uint8Array<ArrayBuffer> | string, type: string, cache: string): Served {
  const bytes = typeof body === 'string' ? new TextEncoder().encode(body) : body;
  const etag = `"${createHash('sha1').update(bytes).digest('base64url')}"`;
  return { body: bytes, etag, type, cache };
}

function contentType(file: string): string {
  const ext = file.slice(file.lastIndexOf('.')) as keyof typeof DOCS_CONTENT_TYPES;
  return DOCS_CONTENT_TYPES[ext];
}

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!);

/** JSON for a <script> file: `</script>` and U+2028/9 cannot break out of it. */
const jsLiteral = (v: unknown) =>
  JSON.stringify(v).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');

function reply(c: Context, file: Served): Response {
  const headers = {
    'content-type': file.type,
    'cache-control': file.cache,
    etag: file.etag,
    'x-content-type-options': 'nosniff',
  };
  const inm = c.req.header('if-none-match');
  if (inm && inm.split(',').some((t) => t.trim().replace(/^W\//, '') === file.etag)) {
    return c.body(null, 304, headers);
  }
  return c.body(file.body, 200, headers);
}

export interface SwaggerDocsOptions {
  /** The page title, usually the API's. */
  title: string;
  /** The OpenAPI document to show, on this origin. Default /openapi.json. */
  specUrl?: string;
  /** Where the page is served; the assets are under it. Default /docs. */
  path?: string;
}

/** The page, its init script and the asset routes, for `app.route('/', swaggerDocsRoutes(...))`. */
export function swaggerDocsRoutes(opts: SwaggerDocsOptions): Hono {
  const path = (opts.path ?? '/docs').replace(/\/+$/, '');
  const specUrl = opts.specUrl ?? '/openapi.json';
  const dir = getAbsoluteFSPath();

  const page = served(
    `<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>${escapeHtml(opts.title)}</title>
    <link rel="stylesheet" type="text/css" href="${path}/swagger-ui.css">
    <link rel="stylesheet" type="text/css" href="${path}/index.css">
    <link rel="icon" type="image/png" href="${path}/favicon-32x32.png" sizes="32x32">
    <link rel="icon" type="image/png" href="${path}/favicon-16x16.png" sizes="16x16">
  </head>
  <body>
    <div id="swagger-ui"></div>
    <noscript><p>Swagger UI needs JavaScript; the OpenAPI document itself is at <a href="${escapeHtml(specUrl)}">${escapeHtml(specUrl)}</a>.</p></noscript>
    <script src="${path}/swagger-ui-bundle.js" charset="utf-8"></script>
    <script src="${path}/swagger-ui-standalone-preset.js" charset="utf-8"></script>
    <script src="${path}/${INITIALIZER}" charset="utf-8"></script>
  </body>
</html>
`,
    DOCS_CONTENT_TYPES['.html'],
    PAGE_CACHE,
  );

  const initializer = served(
    `// Generated by @cdc/http (docs.ts): Swagger UI on ${specUrl}, nothing loaded from elsewhere.
window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({
    url: ${jsLiteral(specUrl)},
    dom_id: '#swagger-ui',
    deepLinking: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    plugins: [SwaggerUIBundle.plugins.DownloadUrl],
    layout: 'StandaloneLayout',
  });
});
`,
    DOCS_CONTENT_TYPES['.js'],
    PAGE_CACHE,
  );

  // Read on first request, then kept: the bundle is 1.8 MB and most processes never serve it.
  const assets = new Map<string, Promise<Served>>();
  const asset = (file: string) => {
    let p = assets.get(file);
    if (!p) {
      p = readFile(join(dir, file)).then((bytes) => served(new Uint8Array(bytes), contentType(file), ASSET_CACHE));
      p.catch(() => assets.delete(file));
      assets.set(file, p);
    }
    return p;
  };

  const app = new Hono();
  app.get(path, (c) => {
    const res = reply(c, page);
    res.headers.set('content-security-policy', DOCS_CSP);
    return res;
  });
  app.get(`${path}/`, (c) => c.redirect(path, 301));
  app.get(`${path}/${INITIALIZER}`, (c) => reply(c, initializer));
  for (const file of SWAGGER_UI_ASSETS) {
    app.get(`${path}/${file}`, async (c) => reply(c, await asset(file)));
  }
  return app;
}
