import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';

/**
 * Requests per second per key, counted in this process (each API replica counts its
 * own). One limiter per distinct rate, since rate-limiter-flexible fixes the rate
 * per limiter.
 */
export interface KeyRateLimits {
  /** undefined: allowed; else the seconds after which the key may try again. */
  take(keyId: string, perSecond: number): Promise<number | undefined>;
}

export function keyRateLimits(): KeyRateLimits {
  const limiters = new Map<number, RateLimiterMemory>();
  return {
    async take(keyId, perSecond) {
      if (perSecond === 0) return undefined;
      let limiter = limiters.get(perSecond);
      if (!limiter) limiters.set(perSecond, (limiter = new RateLimiterMemory({ points: perSecond, duration: 1 })));
      try {
        await limiter.consume(keyId);
        return undefined;
      } catch (res) {
        if (!(res instanceof RateLimiterRes)) throw res;
        return Math.max(1, Math.ceil(res.msBeforeNext / 1000));
      }
    },
  };
}
