import { expect } from 'vitest';

/**
 * Asserts that an app's Swagger UI page works with nothing beyond its own origin:
 * every URL the HTML references is same-origin (relative or root-relative), every
 * script is a file (nothing inline for a CSP to refuse), each referenced file answers
 * 200 with the content type its extension calls for, the CSS pulls nothing from
 * elsewhere, and the init script shows the app's spec without the validator badge.
 * Used by the docs tests of packages/http, crm-api, telemetry-api and the processor.
 */

type Request = (path: string, init?: RequestInit) => Response | Promise<Response>;

const ORIGIN = 'http://127.0.0.1:1';

const EXPECTED_TYPES: [RegExp, RegExp][] = [
  [/\.css$/, /^text\/css(;|$)/],
  [/\.m?js$/, /^(text|application)\/javascript(;|$)/],
  [/\.png$/, /^image\/png$/],
  [/\.json$/, /^application\/json(;|$)/],
];

/** Every URL in src, href, srcset, action, inline style url(…) or <meta http-equiv=refresh>. */
export function referencedUrls(html: string): string[] {
  const urls: string[] = [];
  for (const m of html.matchAll(/\s(?:src|href|action|poster|data)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))/gi)) urls.push(m[1] ?? m[2] ?? m[3]!);
  for (const m of html.matchAll(/\ssrcset\s*=\s*"([^"]*)"/gi)) urls.push(...m[1]!.split(',').map((s) => s.trim().split(/\s+/)[0]!));
  for (const m of html.matchAll(/url\(\s*['"]?([^'")]+)['"]?\s*\)/gi)) urls.push(m[1]!);
  return urls;
}

/** True for a URL that stays on the page's origin (relative or root-relative; data: is inline). */
export function isSameOrigin(ref: string, pagePath: string): boolean {
  if (ref.startsWith('data:')) return true;
  return new URL(ref, ORIGIN + pagePath).origin === ORIGIN;
}

export interface OfflineDocsOptions {
  docsPath?: string;
  specUrl?: string;
}

/** Runs the checks against `request` (an app's in-process `app.request`); returns the asset paths it fetched. */
export async function expectOfflineDocs(request: Request, opts: OfflineDocsOptions = {}): Promise<string[]> {
  const docsPath = opts.docsPath ?? '/docs';
  const specUrl = opts.specUrl ?? '/openapi.json';

  const page = await request(docsPath);
  expect(page.status).toBe(200);
  expect(page.headers.get('content-type')).toMatch(/^text\/html(;|$)/);
  const html = await page.text();

  // No absolute URL of any kind in the page (scheme or protocol-relative).
  expect(html).not.toMatch(/(?:[a-z][a-z0-9+.-]*:)?\/\/[^\s"'<>]/i);
  const refs = referencedUrls(html);
  for (const ref of refs) expect(isSameOrigin(ref, docsPath), `${ref} is not same-origin`).toBe(true);

  // Scripts are files: an inline one would need 'unsafe-inline' under a CSP.
  const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)];
  expect(scripts.length).toBeGreaterThanOrEqual(3);
  for (const [, attrs, body] of scripts) {
    expect(attrs, 'every <script> has a src').toMatch(/\ssrc=/);
    expect(body!.trim(), 'no inline script').toBe('');
  }
  const csp = page.headers.get('content-security-policy');
  if (csp) expect(csp).toMatch(/connect-src 'self'/);

  const assets = [...new Set(refs.filter((r) => !r.startsWith('data:')).map((r) => new URL(r, ORIGIN + docsPath).pathname))];
  for (const file of ['swagger-ui.css', 'swagger-ui-bundle.js', 'swagger-ui-standalone-preset.js']) {
    expect(assets, `the page loads ${file}`).toContain(`${docsPath}/${file}`);
  }

  let initializer: string | undefined;
  for (const path of assets) {
    const res = await request(path);
    expect(res.status, path).toBe(200);
    const type = res.headers.get('content-type') ?? '';
    const expected = EXPECTED_TYPES.find(([ext]) => ext.test(path));
    expect(expected, `${path} has a known extension`).toBeDefined();
    expect(type, path).toMatch(expected![1]);
    const body = new Uint8Array(await res.arrayBuffer());
    expect(body.byteLength, path).toBeGreaterThan(0);
    if (path.endsWith('.css')) {
      const css = new TextDecoder().decode(body);
      for (const m of css.matchAll(/url\(\s*['"]?([^'")]+)['"]?\s*\)/gi)) expect(isSameOrigin(m[1]!, path), `${path}: ${m[1]}`).toBe(true);
      expect(css, `${path} imports nothing`).not.toMatch(/@import/i);
    }
    if (path.endsWith('.js')) {
      const js = new TextDecoder().decode(body);
      if (js.includes('SwaggerUIBundle(')) initializer = js;
    }
  }

  // The init script: this app's spec, no validator badge (it would call validator.swagger.io).
  expect(initializer, 'a script starts SwaggerUIBundle').toBeDefined();
  expect(initializer).toContain(JSON.stringify(specUrl));
  expect(initializer).toMatch(/validatorUrl:\s*null/);
  expect(initializer).not.toMatch(/https?:\/\//);

  const spec = await request(specUrl);
  expect(spec.status).toBe(200);
  expect(spec.headers.get('content-type')).toMatch(/^application\/json/);
  return assets;
}
