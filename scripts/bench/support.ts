/**
 * What the benchmark scripts share: number formatting, progress on stderr (the
 * report alone goes to stdout), and Ctrl-C handling that still lets a script clean
 * up what it created (rows, databases, a stopped stack component).
 */
export const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
export const secs = (ms: number) => `${fmt(ms / 1000, 2)} s`;
export const say = (s: string) => console.error(s);

export class Stopped extends Error {}

let interrupts = 0;
let cleaning = false;

/** First Ctrl-C: stop at the next check and clean up. Second: leave at once. */
export function stopOnInterrupt(): void {
  process.on('SIGINT', () => {
    if (++interrupts > 1) process.exit(130);
    say('interrupted: stopping and cleaning up (Ctrl-C again to leave at once) …');
  });
}

/** From here on Ctrl-C no longer interrupts: the cleanup must run to its end. */
export function startCleaning(): void {
  cleaning = true;
}

/** Throws once Ctrl-C was pressed, except during the cleanup. */
export function checkStop(): void {
  if (interrupts > 0 && !cleaning) throw new Stopped('interrupted');
}

/**
 * Runs a benchmark's `main`, then its clean-up steps in order — after a failure and
 * after Ctrl-C too (which no longer interrupts them) — then closes its clients. Exit
 * code 1 if anything failed; each failure is printed with its step's name.
 */
export async function runBench(
  main: () => Promise<void>,
  steps: { name: string; run: () => Promise<void> }[],
  close: () => Promise<unknown>,
): Promise<void> {
  let failed = false;
  try {
    await main();
  } catch (err) {
    failed = true;
    console.error(err instanceof Stopped ? 'stopped.' : err);
  } finally {
    startCleaning();
    for (const step of steps) {
      try {
        await step.run();
      } catch (err) {
        failed = true;
        console.error(`${step.name} failed:`, err);
      }
    }
    await close();
  }
  process.exitCode = failed ? 1 : 0;
}

export async function sleep(ms: number): Promise<void> {
  checkStop();
  await new Promise((r) => setTimeout(r, ms));
  checkStop();
}

export const now = () => performance.now();

/** Nearest-rank percentile: always a value that was observed, never an interpolation. */
export function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** Polls `fn` every `everyMs` until it gives a value; Ctrl-C stops the wait. */
export async function until<T>(what: string, timeoutMs: number, everyMs: number, fn: () => Promise<T | undefined>): Promise<T> {
  const deadline = now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(everyMs);
  }
}
