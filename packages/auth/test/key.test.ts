import { describe, expect, it } from 'vitest';
import { generateKey, hashSecret, parseKey, scopeList, secretMatches } from '../src/index.js';

describe('API keys', () => {
  it('parses what it generates, and the stored hash matches only its own secret', () => {
    const a = generateKey();
    const b = generateKey();
    expect(parseKey(a.token)).toEqual({ id: a.id, secret: a.secret });
    expect(a.id).not.toBe(b.id);
    expect(secretMatches(a.secret, a.secretSha256)).toBe(true);
    expect(secretMatches(b.secret, a.secretSha256)).toBe(false);
    expect(secretMatches(a.secret, a.secretSha256.subarray(0, 31))).toBe(false);
    expect(a.secretSha256.equals(hashSecret(a.secret))).toBe(true);
  });

  it('refuses anything not shaped like a key it issues', () => {
    const { token } = generateKey();
    for (const bad of [
      '',
      token.slice(1),
      `${token}x`,
      token.replace(/^cdc/, 'cdx'),
      token.slice(0, 20) + '-' + token.slice(21),
      token.slice(0, 4) + 'G' + token.slice(5),
      token.slice(0, 30) + '%' + token.slice(31),
      token.slice(0, 30) + '\n' + token.slice(31),
    ]) {
      expect(parseKey(bad), JSON.stringify(bad)).toBeUndefined();
    }
  });

  it('reads a scope list, sorted and without repeats, and names an unknown scope', () => {
    expect(scopeList.parse('users:write, users:read,users:read')).toEqual(['users:read', 'users:write']);
    const r = scopeList.safeParse('users:read,users:admin');
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error?.issues)).toContain('users:admin');
    expect(scopeList.safeParse(' , ').success).toBe(false);
  });
});
