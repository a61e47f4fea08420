import CircuitBreaker from 'opossum';
import pRetry from 'p-retry';
import type { Logger } from 'pino';

/**
 * How the processor writes to ClickHouse: each call retried with exponential backoff
 * and jitter (p-retry), behind one circuit breaker (opossum). While ClickHouse is
 * down the breaker is open: calls fail at once instead of piling up, the consumers
 * are paused (no fetching, no spinning, nothing skipped), and `run` waits, keeping
 * the consumer-group session alive, until a half-open probe succeeds. Nothing is
 * ever dropped: a batch's offsets are committed only after its writes succeeded.
 */
export interface Guard {
  run<T>(what: string, fn: () => Promise<T>, heartbeat?: () => Promise<void>): Promise<T>;
  readonly state: 'closed' | 'open' | 'half-open';
  on(event: 'open' | 'close', listener: () => void): void;
  shutdown(): void;
}

export interface GuardOptions {
  retries: number;
  minTimeoutMs: number;
  maxTimeoutMs: number;
  /** How long the breaker stays open before a probe is let through. */
  resetTimeoutMs: number;
  log: Logger;
}

class Stopped extends Error {}

/** Well inside kafkajs's default 30 s session timeout. */
const HEARTBEAT_EVERY_MS = 3_000;

export function createGuard(opts: GuardOptions): Guard {
  const breaker = new CircuitBreaker(async (fn: () => Promise<unknown>) => fn(), {
    // Open on any failure of a retried call: the retries already absorbed blips.
    errorThresholdPercentage: 1,
    volumeThreshold: 1,
    resetTimeout: opts.resetTimeoutMs,
    timeout: false,
  });
  let stopped = false;
  breaker.on('open', () => opts.log.warn('ClickHouse unavailable: circuit open, consumption paused'));
  breaker.on('close', () => opts.log.info('ClickHouse back: circuit closed, consumption resumed'));

  async function run<T>(what: string, fn: () => Promise<T>, heartbeat?: () => Promise<void>): Promise<T> {
    // A write that takes longer than the group's session timeout (ClickHouse busy,
    // retries backing off) must not get the consumer evicted from its group: kafkajs
    // then stops the consumer for good. So the member keeps heartbeating meanwhile.
    const alive = heartbeat && setInterval(() => void heartbeat().catch(() => {}), HEARTBEAT_EVERY_MS);
    try {
      return await attempt(what, fn, heartbeat);
    } finally {
      if (alive) clearInterval(alive);
    }
  }

  async function attempt<T>(what: string, fn: () => Promise<T>, heartbeat?: () => Promise<void>): Promise<T> {
    for (;;) {
      if (stopped) throw new Stopped(`${what}: stopping`);
      try {
        return (await breaker.fire(() =>
          pRetry(fn, {
            retries: opts.retries,
            minTimeout: opts.minTimeoutMs,
            maxTimeout: opts.maxTimeoutMs,
            randomize: true,
            onFailedAttempt: ({ error, attemptNumber }) =>
              opts.log.warn({ err: error.message, attempt: attemptNumber }, `${what} failed; retrying`),
          }),
        )) as T;
      } catch (err) {
        if (!breaker.opened && !breaker.halfOpen) throw err;
        // Open: wait (alive in the group) until the breaker lets a probe through.
        await new Promise((r) => setTimeout(r, Math.min(1000, opts.resetTimeoutMs)));
        await heartbeat?.().catch(() => {});
      }
    }
  }

  return {
    run,
    get state() {
      return breaker.opened ? 'open' : breaker.halfOpen ? 'half-open' : 'closed';
    },
    on(event, listener) {
      if (event === 'open') breaker.on('open', listener);
      else breaker.on('close', listener);
    },
    shutdown() {
      stopped = true;
      breaker.shutdown();
    },
  };
}
