import type { ApiKeysOptions } from '../src/index.js';

/** For tests of the frame's other parts: no key check (auth.test.ts covers it), open ops routes. */
export const AUTH_OFF: ApiKeysOptions = {
  config: { mode: 'off', opsEndpoints: 'open', keyCacheMs: 0, defaultRatePerSecond: 0 },
  keys: { find: async () => undefined },
  store: 'test_db',
};
