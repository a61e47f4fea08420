import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * A key as handed to its holder: `cdc_<id>_<secret>`. The id is public (logs, the
 * audit log, `npm run keys -- list`) and finds the row; the secret is 32 random
 * bytes, of which only the SHA-256 is stored. A slow password hash buys nothing
 * here: 256 random bits cannot be guessed, and SHA-256 keeps a check under a
 * microsecond on every request.
 */
export const KEY_PREFIX = 'cdc';

const ID = /^[0-9a-f]{16}$/;
const SECRET = /^[A-Za-z0-9_-]{43}$/;

export interface ParsedKey {
  id: string;
  secret: string;
}

export interface NewKey extends ParsedKey {
  /** What the holder sends: `Authorization: Bearer <token>`. */
  token: string;
  secretSha256: Buffer;
}

export function generateKey(): NewKey {
  const id = randomBytes(8).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  return { id, secret, token: `${KEY_PREFIX}_${id}_${secret}`, secretSha256: hashSecret(secret) };
}

/** The token's parts, or undefined for anything not shaped like a key we issue. */
export function parseKey(token: string): ParsedKey | undefined {
  if (token.length !== KEY_PREFIX.length + 1 + 16 + 1 + 43) return undefined;
  const [prefix, id] = [token.slice(0, 3), token.slice(4, 20)];
  const secret = token.slice(21);
  if (prefix !== KEY_PREFIX || token[3] !== '_' || token[20] !== '_') return undefined;
  if (!ID.test(id) || !SECRET.test(secret)) return undefined;
  return { id, secret };
}

export function hashSecret(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}

/** Constant-time: how much of the hash matched is not observable. */
export function secretMatches(secret: string, storedSha256: Uint8Array): boolean {
  const actual = hashSecret(secret);
  return storedSha256.length === actual.length && timingSafeEqual(actual, storedSha256);
}

export const isKeyId = (s: string): boolean => ID.test(s);
