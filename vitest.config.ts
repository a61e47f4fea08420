import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { defineConfig } from 'vitest/config';
import { TEST_STACK_ENV } from './tests/setup/test-stack-env.js';

// Every test process, and every script or app a test starts, talks to the tests' own
// stack (tests/setup/test-stack-env.ts), never to the one `npm run up` runs; real env
// vars and .env files cannot point it elsewhere. STACK_PROVIDER=testcontainers
// publishes docker-compose's ports, the native defaults, so it keeps them.
if (process.env.STACK_PROVIDER !== 'testcontainers') Object.assign(process.env, TEST_STACK_ENV);
// Test files that run a chdb-server in-process need libuv's pool as wide as the
// real server has it (apps/chdb-server/src/threadpool.ts); workers inherit it.
process.env.UV_THREADPOOL_SIZE ??= '64';

/**
 * Files in path order, every run: vitest's default puts the last run's failures and
 * slow files first, so the integration files, which share one stack, would meet it in a
 * different state from one run to the next.
 */
class PathOrder extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const key = (f: TestSpecification) => `${f.project.name}:${relative(f.project.config.root, f.moduleId)}`;
    return [...files].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  }
}

/**
 * Two projects. `unit` needs no running servers (it may start its own in-process
 * ones, like the chDB HTTP front). `integration` runs against the tests' native stack,
 * which its global setup brings up from empty before any file runs and stops after.
 */
export default defineConfig({
  test: {
    sequence: { sequencer: PathOrder },
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
