import type { Context } from 'hono';
import { classifyDbError } from '@cdc/db';
import { databaseProblem, problem, ProblemType, type ApiEnv } from '@cdc/http';

/**
 * createApiApp's `mapError`: known database failures → problem responses; anything
 * else is left to the frame's 500.
 */
export function mapError(err: Error, c: Context<ApiEnv>): Response | undefined {
  const db = classifyDbError(err);
  if (!db) return undefined;
  return databaseProblem(c, db, (failure) => {
    // ON CONFLICT (event_uuid) absorbs duplicates; another unique index would have to exist.
    c.get('log')?.warn({ constraint: failure.constraint }, 'unexpected unique violation');
    return problem(c, {
      type: ProblemType.conflict,
      title: 'Conflict',
      status: 409,
      detail: `the database reported a duplicate (${failure.constraint ?? 'unique constraint'})`,
    });
  });
}
