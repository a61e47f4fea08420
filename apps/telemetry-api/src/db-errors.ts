import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { classifyDbError } from '@cdc/db';
import { dependencyUnavailable, problem, ProblemType, type ApiEnv } from '@cdc/http';


/**
 * createApiApp's `mapError`: known failures → problem responses; anything else is
 * left to the frame's 500.
 */
export function mapError(err: Error, c: Context<ApiEnv>): Response | undefined {
  // @hono/zod-openapi's validators throw HTTPExceptions (415 from the media-type
  // gate, 400 for unparsable JSON). The frame's guards answer those cases first
  // today; should one slip through, a client's mistake must still not become a 500.
  if (err instanceof HTTPException && err.status < 500) {
    return problem(c, {
      type: err.status === 415 ? ProblemType.unsupportedMediaType : ProblemType.validation,
      title: err.message || 'Bad request',
      status: err.status,
      detail: err.message,
    });
  }
  const db = classifyDbError(err);
  if (!db) return undefined;
  const log = c.get('log');
  switch (db.kind) {
    case 'unavailable':
      log?.warn({ reason: db.message.split('\n').at(-1) }, 'database unavailable');
      return dependencyUnavailable(c, 'database');
    case 'unique_violation':
      // ON CONFLICT (event_uuid) absorbs duplicates; another unique index would have to exist.
      log?.warn({ constraint: db.constraint }, 'unexpected unique violation');
      return problem(c, {
        type: ProblemType.conflict,
        title: 'Conflict',
        status: 409,
        detail: `the database reported a duplicate (${db.constraint ?? 'unique constraint'})`,
      });
    case 'check_violation':
      // The API checks the same rules first: reaching here means they drifted apart.
      log?.warn({ constraint: db.constraint }, 'database CHECK rejected input the API accepted');
      return problem(c, {
        type: ProblemType.validation,
        title: 'The request is not valid',
        status: 422,
        detail: `the database rejected the input (${db.constraint ?? 'check constraint'})`,
        errors: [{ path: '', message: db.constraint ?? 'check constraint violated', code: 'check_violation' }],
      });
  }
}
