import { z } from '@hono/zod-openapi';
import { LIMITS } from './limits.js';

// PostgreSQL text cannot hold NUL, and an unpaired UTF-16 surrogate has no UTF-8 form:
// either one fails the INSERT (a 500) instead of being refused as input.
const UNSTORABLE_TEXT = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const storable = [(s: string) => !UNSTORABLE_TEXT.test(s), 'must not contain NUL characters or unpaired UTF-16 surrogates'] as const;

const optionalText = (max: number, example: string) =>
  z.string().trim().max(max).refine(...storable).nullable().optional().openapi({ example });

/**
 * What a client may write. Unknown fields are rejected (strict), so a typo such as
 * `emial` fails loudly instead of being dropped. E-mail addresses are trimmed and
 * stored lower-case; unicode local parts and +tags are accepted.
 */
export const IncomingUser = z
  .strictObject({
    name: z.string().trim().min(1).max(LIMITS.nameLength).refine(...storable).openapi({ example: 'Olena Kovalenko' }),
    email: z
      .string()
      .trim()
      .toLowerCase()
      .max(LIMITS.emailLength)
      .refine(...storable)
      .pipe(z.email({ pattern: z.regexes.unicodeEmail }))
      .openapi({ example: 'olena+emg@example.com' }),
    age: z.int().min(0).max(LIMITS.maxAge).nullable().optional().openapi({ example: 34 }),
    gender: optionalText(LIMITS.genderLength, 'female'),
    country: optionalText(LIMITS.countryLength, 'Ukraine'),
    address: optionalText(LIMITS.addressLength, 'Kyiv, Khreshchatyk 1'),
    phone: optionalText(LIMITS.phoneLength, '+380441234567'),
  })
  .openapi('IncomingUser');
export type IncomingUser = z.infer<typeof IncomingUser>;

/** PATCH body: any subset of IncomingUser, at least one field. */
export const UserPatch = IncomingUser.partial()
  .refine((v) => Object.keys(v).length > 0, { message: 'at least one field is required' })
  .openapi('UserPatch');
export type UserPatch = z.infer<typeof UserPatch>;

export const User = z
  .object({
    id: z.int().openapi({ example: 1 }),
    user_uuid: z.uuid().openapi({ example: '4f1c2b8e-8a47-4c55-9a1e-2c3d4e5f6a7b' }),
    name: z.string(),
    email: z.string(),
    age: z.int().nullable(),
    gender: z.string().nullable(),
    country: z.string().nullable(),
    address: z.string().nullable(),
    phone: z.string().nullable(),
    registered_at: z.iso.datetime({ offset: true }).openapi({ description: 'Set by the database at insert' }),
  })
  .openapi('User');
export type User = z.infer<typeof User>;

/** The fields a client writes, in contract order (also the columns of crm.csv before registered_at). */
export const USER_INPUT_FIELDS = ['name', 'email', 'age', 'gender', 'country', 'address', 'phone'] as const satisfies readonly (keyof IncomingUser)[];
