import type { Context } from 'hono';
import { databaseProblem, problem, ProblemType, type ApiEnv } from '@cdc/http';
import { classifyDbError } from '@cdc/db';

/**
 * Known database failures → problem responses, for createApiApp's `mapError`.
 * Anything else is left to the frame's 500.
 */
export function mapDbError(err: Error, c: Context<ApiEnv>): Response | undefined {
  const db = classifyDbError(err);
  if (!db) return undefined;
  return databaseProblem(c, db, (failure) => {
    // email is the only unique column a client can write (user_uuid is the
    // database's), so it is the answer when the driver does not name the column.
    const field = failure.fields?.[0] ?? uniqueField(failure.constraint) ?? 'email';
    c.get('log')?.info({ field }, 'duplicate value');
    return problem(c, {
      type: ProblemType.conflict,
      title: 'Conflict',
      status: 409,
      detail: `another user already has this ${field}`,
      errors: [{ path: field, message: `${field} is already in use`, code: 'unique' }],
    });
  });
}

/** users_email_key → email (Prisma's naming of unique indexes). */
function uniqueField(constraint: string | undefined): string | undefined {
  return constraint?.match(/^users_(.+)_key$/)?.[1];
}
