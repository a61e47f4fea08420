import type { Context } from 'hono';
import type { ApiEnv } from './app.js';
import { dependencyUnavailable, problem, ProblemType } from './problem.js';

/**
 * A database failure as packages/db's classifyDbError reports it (stated here by
 * shape, so the HTTP frame does not depend on the database package).
 */
export interface DatabaseFailure {
  kind: 'unavailable' | 'unique_violation' | 'check_violation';
  constraint?: string;
  fields?: string[];
  message: string;
}

/**
 * The answers both APIs give for a database failure: 503 while it is unreachable, and
 * 422 for a CHECK the schemas let through (they check the same rules first, so it is
 * logged: the two have drifted apart). What a unique violation means differs per
 * API, so the caller answers that one.
 */
export function databaseProblem(
  c: Context<ApiEnv>,
  failure: DatabaseFailure,
  onUniqueViolation: (failure: DatabaseFailure) => Response,
): Response {
  const log = c.get('log');
  switch (failure.kind) {
    case 'unavailable':
      // Prisma prefixes the cause with a multi-line code frame; the cause is the last line.
      log?.warn({ reason: failure.message.trim().split('\n').at(-1) }, 'database unavailable');
      return dependencyUnavailable(c, 'database');
    case 'unique_violation':
      return onUniqueViolation(failure);
    case 'check_violation':
      log?.warn({ constraint: failure.constraint }, 'database CHECK rejected input the schema accepted');
      return problem(c, {
        type: ProblemType.validation,
        title: 'The request is not valid',
        status: 422,
        detail: `the database rejected the input (${failure.constraint ?? 'check constraint'})`,
        errors: [{ path: '', message: failure.constraint ?? 'check constraint violated', code: 'check_violation' }],
      });
  }
}
