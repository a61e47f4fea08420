import { AUDIT_INSERT, auditValues, type AuditEntry, type WriteBy } from '@cdc/db/api-keys';
import { Prisma, type PrismaClient, type User as UserRow } from '@cdc/db/crm';
import type { IncomingUser, User, UserPatch } from '@cdc/schemas';

export interface UserPage {
  items: User[];
  /** Id of the last item when more rows follow it, else null. */
  lastId: number | null;
}

export interface UsersRepository {
  create(input: IncomingUser, by: WriteBy): Promise<User>;
  get(id: number): Promise<User | null>;
  /** Rows with id > afterId in id order: stable under concurrent inserts and deletes. */
  list(opts: { limit: number; afterId?: number }): Promise<UserPage>;
  update(id: number, patch: UserPatch, by: WriteBy): Promise<User | null>;
  delete(id: number, by: WriteBy): Promise<boolean>;
}

export function toUser(row: UserRow): User {
  return {
    id: row.id,
    user_uuid: row.user_uuid,
    name: row.name,
    email: row.email,
    age: row.age,
    gender: row.gender,
    country: row.country,
    address: row.address,
    phone: row.phone,
    registered_at: row.registered_at.toISOString(),
  };
}

// Prisma's "record to update/delete does not exist".
const isNotFound = (err: unknown) => err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2025';

type Tx = Prisma.TransactionClient;

// Field names only: the audit log must hold no personal data (docs/security.md).
const audit = (tx: Tx, by: WriteBy, action: string, id: number, detail: AuditEntry['detail'] = {}) =>
  tx.$executeRawUnsafe(AUDIT_INSERT, ...auditValues({ ...by, action, target: `users/${id}`, detail }));

/**
 * Every write and its audit entry commit together or not at all. Database errors
 * (outage, duplicate e-mail) are left to propagate: the app maps them to HTTP in one
 * place (db-errors.ts).
 */
export function createUsersRepository(prisma: PrismaClient): UsersRepository {
  return {
    async create(input, by) {
      return prisma.$transaction(async (tx) => {
        // Listing the columns keeps id, user_uuid and registered_at database-owned
        // even if the contract ever grows a field with one of those names.
        const row = await tx.user.create({
          data: {
            name: input.name,
            email: input.email,
            age: input.age,
            gender: input.gender,
            country: input.country,
            address: input.address,
            phone: input.phone,
          },
        });
        await audit(tx, by, 'users.create', row.id);
        return toUser(row);
      });
    },

    async get(id) {
      const row = await prisma.user.findUnique({ where: { id } });
      return row ? toUser(row) : null;
    },

    async list({ limit, afterId }) {
      // One row more than asked tells whether another page exists, so the last
      // page says next_cursor: null instead of sending the client to an empty page.
      const rows = await prisma.user.findMany({
        where: afterId === undefined ? {} : { id: { gt: afterId } },
        orderBy: { id: 'asc' },
        take: limit + 1,
      });
      const page = rows.slice(0, limit);
      return {
        items: page.map(toUser),
        lastId: rows.length > limit ? (page[page.length - 1]?.id ?? null) : null,
      };
    },

    async update(id, patch, by) {
      try {
        return await prisma.$transaction(async (tx) => {
          const row = await tx.user.update({
            where: { id },
            data: {
              name: patch.name,
              email: patch.email,
              age: patch.age,
              gender: patch.gender,
              country: patch.country,
              address: patch.address,
              phone: patch.phone,
            },
          });
          await audit(tx, by, 'users.update', id, { fields: Object.keys(patch).sort() });
          return toUser(row);
        });
      } catch (err) {
        if (isNotFound(err)) return null;
        throw err;
      }
    },

    async delete(id, by) {
      return prisma.$transaction(async (tx) => {
        const { count } = await tx.user.deleteMany({ where: { id } });
        if (count > 0) await audit(tx, by, 'users.delete', id);
        return count > 0;
      });
    },
  };
}
