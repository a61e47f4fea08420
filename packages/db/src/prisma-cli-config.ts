// Shared by prisma/<db>/prisma.config.ts. Loaded only inside the Prisma CLI process.
import path from 'node:path';
import { promisify } from 'node:util';
import { defineConfig } from 'prisma/config';
import { createPgAdapter } from './pg-adapter.js';

/*
 * Prisma 6.19's WASM schema engine arms a 10 s timer (its advisory-lock timeout)
 * through the global setTimeout and never clears it, so `migrate deploy` sits
 * idle for 10 s after its work is done, still holding the migration advisory
 * lock; a concurrent deployer then times out (P1002) instead of waiting. We unref
 * such timers (>= 10 s, created from WebAssembly frames): they still fire while
 * the process is alive, they just don't keep it alive.
 */
function unrefWasmTimers(): void {
  const original = globalThis.setTimeout;
  const patched = (callback: (...args: unknown[]) => void, ms?: number, ...args: unknown[]): NodeJS.Timeout => {
    const timer = original(callback, ms, ...args);
    if ((ms ?? 0) >= 10_000 && new Error().stack?.includes('wasm://')) timer.unref();
    return timer;
  };
  Object.defineProperty(patched, promisify.custom, { value: Reflect.get(original, promisify.custom) });
  globalThis.setTimeout = patched as typeof setTimeout;
}
unrefWasmTimers();

/**
 * Prisma config for one database: prisma/<name>/schema.prisma + prisma/<name>/migrations,
 * connected through the (fixed) pg driver adapter and the WASM schema engine.
 */
export function defineDbConfig(dir: string, envVar: string): ReturnType<typeof defineConfig> {
  const url = process.env[envVar];
  // schema.prisma's `url = env("<envVar>")` must resolve even where no database is
  // needed (`prisma generate` at install time); it is never connected to.
  process.env[envVar] ??= `postgresql://localhost/${envVar}-is-not-set`;
  return defineConfig({
    experimental: { adapter: true },
    engine: 'js',
    schema: path.join(dir, 'schema.prisma'),
    migrations: { path: path.join(dir, 'migrations') },
    async adapter() {
      if (!url) throw new Error(`${envVar} is not set`);
      // The CLI never disposes this adapter: allowExitOnIdle lets the process exit
      // when its work is done instead of after pg's 10 s idle timeout.
      return createPgAdapter(url, { allowExitOnIdle: true });
    },
  });
}
