import type { Context } from 'hono';
import { dependencyUnavailable, problem, ProblemType, type ApiEnv } from '@cdc/http';
import { classifyDbError } from '@cdc/db';


/**
 * Known database failures → problem responses, for createApiApp's `mapError`.
 * Anything else is left to the frame's 500.
 */
export function mapDbError(err: Error, c: Context<ApiEnv>): Response | undefined {
  const db = classifyDbError(err);
  if (!db) return undefined;
  const log = c.get('log');
  switch (db.kind) {
    case 'unavailable':
      log?.warn({ reason: lastLine(db.message) }, 'database unavailable');
      return dependencyUnavailable(c, 'database');
    case 'unique_violation': {
      // email is the only unique column a client can write (user_uuid is the
      // database's), so it is the answer when the driver does not name the column.
      const field = db.fields?.[0] ?? uniqueField(db.constraint) ?? 'email';
      log?.info({ field }, 'duplicate value');
      return problem(c, {
        type: ProblemType.conflict,
        title: 'Conflict',
        status: 409,
        detail: `another user already has this ${field}`,
        errors: [{ path: field, message: `${field} is already in use`, code: 'unique' }],
      });
    }
    case 'check_violation':
      // The schemas check the same rules first, so reaching here means they drifted
      // apart from the database; worth a warning, but still the client's input.
      log?.warn({ constraint: db.constraint }, 'database CHECK rejected input the schema accepted');
      return problem(c, {
        type: ProblemType.validation,
        title: 'The request is not valid',
        status: 422,
        detail: `the database rejected the input (${db.constraint ?? 'check constraint'})`,
        errors: [{ path: '', message: db.constraint ?? 'check constraint violated', code: 'check_violation' }],
      });
  }
}

/** users_email_key → email (Prisma's naming of unique indexes). */
function uniqueField(constraint: string | undefined): string | undefined {
  return constraint?.match(/^users_(.+)_key$/)?.[1];
}

// Prisma prefixes the cause with a multi-line code frame; the cause is the last line.
function lastLine(message: string): string {
  return message.trim().split('\n').at(-1) ?? message;
}
