import { LIMITS } from '@cdc/schemas';

/*
 * Keyset-pagination cursor: base64url of the last id a page returned. Clients must
 * treat it as opaque, which leaves room to change what it carries (e.g. a sort key)
 * without breaking them.
 */

export function encodeCursor(lastId: number): string {
  return Buffer.from(String(lastId), 'utf8').toString('base64url');
}

/** The id after which the next page starts, or undefined when `cursor` is not one we issued. */
export function decodeCursor(cursor: string): number | undefined {
  // Node's base64url decoder skips characters it does not know; reject them
  // instead so that a mangled cursor fails loudly rather than moving the page.
  if (!/^[A-Za-z0-9_-]{1,16}$/.test(cursor)) return undefined;
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!/^(0|[1-9]\d{0,9})$/.test(text)) return undefined;
  const id = Number(text);
  if (id > LIMITS.int32Max) return undefined;
  // Only the canonical spelling is accepted: one cursor per position.
  return encodeCursor(id) === cursor ? id : undefined;
}
