import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StackConfig } from './config.js';

/**
 * The console's write token: CONSOLE_TOKEN when set, else one generated at the first
 * `up` and kept in <STACK_DIR>/console/token (mode 0600), so the pages are read-only
 * for whoever lacks it and the stack's owner can read it (`cat .stack/console/token`).
 */
export function consoleToken(config: StackConfig): string {
  if (config.env.CONSOLE_TOKEN) return config.env.CONSOLE_TOKEN;
  const file = consoleTokenFile(config);
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(join(config.stateDir, 'console'), { recursive: true });
  const token = randomBytes(24).toString('hex');
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return token;
}

export const consoleTokenFile = (config: StackConfig) => join(config.stateDir, 'console', 'token');

const WEB_SOURCES = ['apps/console/web', 'apps/console/vite.config.ts', 'apps/console/src/contract.ts', 'apps/console/package.json'];

function newestMtime(path: string): number {
  const s = statSync(path);
  if (!s.isDirectory()) return s.mtimeMs;
  return readdirSync(path).reduce((m, f) => Math.max(m, newestMtime(join(path, f))), s.mtimeMs);
}

/**
 * Builds the console's front end (Vite) when dist/web is missing or older than its
 * sources: the build output is not committed, and a fresh clone's first `up` makes it.
 */
export function buildConsoleWeb(root: string, log: (line: string) => void = () => {}): void {
  const index = join(root, 'apps/console/dist/web/index.html');
  const sources = Math.max(...WEB_SOURCES.map((p) => newestMtime(join(root, p))));
  if (existsSync(index) && statSync(index).mtimeMs >= sources) return;
  log('building the console front end (vite build)…');
  execFileSync('npx', ['vite', 'build', '--config', 'apps/console/vite.config.ts', '--logLevel', 'warn'], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
}
