import { describe, expect, it } from 'vitest';
import { runScript } from '../../tests/support/run-script.js';

/** The command line alone: every case here ends before anything is connected. */
describe('npm run snapshot: the command line', () => {
  it('--help prints the usage on stdout, exit 0', async () => {
    const r = await runScript('scripts/snapshot/cli.ts', ['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^usage: npm run snapshot -- \[options\]/);
    expect(r.stdout).toContain('--range-pages N');
    expect(r.stderr).toBe('');
  });

  it.each([
    [['--bogus'], /Unknown option '--bogus'/],
    [['--workers', '0'], /--workers: an integer from 1 to 64/],
    [['--range-pages', 'many'], /--range-pages: a positive integer/],
    [['--table', 'users'], /--table: one of telemetry_events/],
  ])('%j is refused with exit 2 and the usage on stderr', async (args, message) => {
    const r = await runScript('scripts/snapshot/cli.ts', args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toContain('usage: npm run snapshot');
    expect(r.stdout).toBe('');
  });
});
