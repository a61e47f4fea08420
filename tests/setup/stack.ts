import { loadDotEnv } from '@cdc/config';
import { loadStackConfig } from '../../scripts/stack/config.js';
import { up } from '../../scripts/stack/stack.js';

/**
 * Brings the native stack's infrastructure up (or finds it running) before the
 * integration tests. It is left running afterwards so the next run reuses it;
 * `npm run stack:down` stops it.
 */
export default async function setup(): Promise<void> {
  loadDotEnv();
  const config = loadStackConfig();
  await up(config, ['infrastructure'], (line) => console.log(`[stack] ${line}`));
}
