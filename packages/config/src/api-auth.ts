import { z } from 'zod';
import { ConfigError } from './index.js';

/**
 * How an API checks callers (docs/security.md), the same variables for every API.
 * API_AUTH=off exists for one purpose, measuring what authentication costs
 * (bench:ingest), and is refused unless the API listens on loopback only.
 */
export const apiAuthEnv = z.object({
  API_AUTH: z.enum(['required', 'off']).default('required'),
  // /ready and /metrics: `open` answers anyone who reaches the port, as readiness
  // probes and Prometheus expect (neither says anything about the data); `key` needs a
  // key with ops:read, for an API whose port is reachable from outside.
  API_OPS_ENDPOINTS: z.enum(['key', 'open']).default('open'),
  // How long a looked-up key is trusted before it is read again: a revoked key stops
  // working within this time. 0 reads the key on every request.
  API_KEY_CACHE_MS: z.coerce.number().int().min(0).max(300_000).default(5_000),
  // Requests per second a key may make unless the key sets its own (0: no limit).
  API_RATE_PER_SECOND: z.coerce.number().int().min(0).max(1_000_000).default(100),
});

export interface ApiAuthConfig {
  mode: 'required' | 'off';
  opsEndpoints: 'key' | 'open';
  keyCacheMs: number;
  defaultRatePerSecond: number;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

export function toApiAuthConfig(e: z.infer<typeof apiAuthEnv>, scope: string, host: string): ApiAuthConfig {
  if (e.API_AUTH === 'off' && !LOOPBACK.has(host)) {
    throw new ConfigError(scope, [
      { path: 'API_AUTH', message: `off is allowed only with HOST on loopback (127.0.0.1, ::1), not ${host}` },
    ]);
  }
  return {
    mode: e.API_AUTH,
    opsEndpoints: e.API_OPS_ENDPOINTS,
    keyCacheMs: e.API_KEY_CACHE_MS,
    defaultRatePerSecond: e.API_RATE_PER_SECOND,
  };
}
