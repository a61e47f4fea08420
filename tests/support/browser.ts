import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/**
 * Debian's Chromium driven by playwright-core (scripts/install.sh installs it). The
 * flags keep Chromium's own background connections off: the machines reach loopback
 * only, and a page must too.
 */
export const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export interface Watched {
  page: Page;
  /** Console errors, failed requests, HTTP errors and requests that left loopback, as they happened. */
  problems: string[];
}

export interface BrowserSession {
  context: BrowserContext;
  open(): Promise<Watched>;
  close(): Promise<void>;
}

const LOOPBACK = /^(https?|wss?):\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?\//;

export async function startBrowser(): Promise<BrowserSession> {
  const userDataDir = mkdtempSync(join(tmpdir(), 'cdc-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    args: ARGS,
    viewport: { width: 1400, height: 900 },
    acceptDownloads: true,
  });
  return {
    context,
    async open() {
      const page = await context.newPage();
      const problems: string[] = [];
      // Anything not on loopback is refused and recorded: it is a failure of the page.
      await page.route('**/*', (route) => {
        const url = route.request().url();
        if (LOOPBACK.test(url) || url.startsWith('data:') || url.startsWith('blob:')) return route.continue();
        problems.push(`non-loopback request: ${url}`);
        return route.abort();
      });
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
      });
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      page.on('requestfailed', (r) => {
        // An EventSource or fetch the page itself closed when leaving is not a failure.
        if (r.failure()?.errorText === 'net::ERR_ABORTED') return;
        problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`);
      });
      page.on('response', (r) => {
        if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`);
      });
      return { page, problems };
    },
    async close() {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}
