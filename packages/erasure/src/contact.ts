/**
 * The personal data of a user that erasure removes: the columns that say who the person
 * is or how to reach them. Age, gender and country stay in the analytics as
 * aggregates' dimensions; they identify nobody without these.
 */
export const CONTACT_COLUMNS = ['name', 'email', 'phone', 'address'] as const;

export type ContactValues = string[];

/**
 * The values to look for in raw text, as hex: queries carry the hex form, never the
 * value itself, so no query text or log line repeats the data being erased. Only
 * e-mails: unique per user (crm_db enforces it), whereas another person may share a
 * name, a phone or an address, and their rows are not this user's to erase.
 */
export function needles(values: Iterable<string | null | undefined>): string[] {
  const out = new Set<string>();
  for (const v of values) if (v && v.trim().length > 0) out.add(Buffer.from(v, 'utf8').toString('hex'));
  return [...out].sort();
}
