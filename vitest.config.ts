import { defineConfig } from 'vitest/config';

/**
 * Two projects. `unit` needs no running servers (it may start its own in-process
 * ones, like the chDB HTTP front). `integration` runs against the real native stack,
 * which its global setup brings up (or reuses) before any file runs.
 */
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['apps/*/test/**/*.test.ts', 'packages/*/test/**/*.test.ts', 'scripts/**/*.test.ts', 'tests/**/*.test.ts'],
          exclude: ['**/*.int.test.ts', '**/node_modules/**'],
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['tests/**/*.int.test.ts', 'apps/*/test/**/*.int.test.ts', 'scripts/**/*.int.test.ts'],
          globalSetup: ['tests/setup/stack.ts'],
          // One stack, shared: files run one after another so they don't fight over it.
          fileParallelism: false,
          testTimeout: 180_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
