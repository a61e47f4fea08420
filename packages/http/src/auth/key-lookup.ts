import { LRUCache } from 'lru-cache';

/** What the check needs of a stored key (auth.api_keys; @cdc/db's ApiKeyRecord has it). */
export interface StoredKey {
  id: string;
  name: string;
  secretSha256: Uint8Array;
  scopes: readonly string[];
  ratePerSecond: number | null;
  expiresAt: Date | null;
  revokedAt: Date | null;
}

export interface KeySource {
  find(id: string): Promise<StoredKey | undefined>;
}

/**
 * Keys by id, each trusted for `ttlMs` after it was read: one indexed read per key
 * and interval instead of one per request. Unknown ids are remembered as well, so a
 * flood of made-up keys costs one read per id, and lookups of one id in flight at
 * once share a single read.
 */
export function cachedKeys(source: KeySource, ttlMs: number): KeySource {
  if (ttlMs === 0) return source;
  const cache = new LRUCache<string, { key: StoredKey | undefined }>({
    max: 10_000,
    ttl: ttlMs,
    fetchMethod: async (id) => ({ key: await source.find(id) }),
  });
  return {
    async find(id) {
      const entry = await cache.fetch(id);
      return entry?.key;
    },
  };
}
