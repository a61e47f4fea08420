import type { Context, TypedResponse } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { z } from '@hono/zod-openapi';
import { problem, PROBLEM_CONTENT_TYPE, type ProblemInput } from '@cdc/http';

/** The problem+json body packages/http sends, described for OpenAPI. */
export const ProblemSchema = z
  .object({
    type: z.string().openapi({ example: 'https://cdc-pipeline.local/problems/validation-error' }),
    title: z.string().openapi({ example: 'The request is not valid' }),
    status: z.int().openapi({ example: 422 }),
    detail: z.string().optional(),
    instance: z.string().openapi({ example: '/users' }),
    request_id: z.string().optional().openapi({ description: 'Also in the X-Request-Id response header' }),
    errors: z
      .array(
        z.object({
          path: z.string().openapi({ example: 'email' }),
          message: z.string(),
          code: z.string().optional(),
        }),
      )
      .optional()
      .openapi({ description: 'Every problem with the input, not only the first' }),
  })
  .openapi('Problem');
export type ProblemBody = z.infer<typeof ProblemSchema>;

const content = { [PROBLEM_CONTENT_TYPE]: { schema: ProblemSchema } } as const;

/** Problem responses by status, for spreading into createRoute's `responses`. */
export const problemResponses = {
  400: { description: 'The body is not valid JSON', content },
  404: { description: 'No user with this id', content },
  409: { description: 'Another user already has this e-mail address (errors names the field)', content },
  413: { description: 'The body is larger than the documented limit', content },
  415: { description: 'Content-Type is not application/json', content },
  422: { description: 'The input breaks the schema; errors lists every problem', content },
  500: { description: 'Unexpected failure; request_id identifies it in the logs', content },
  503: { description: 'The database is unavailable; retry after the Retry-After header', content },
} as const;

/**
 * problem() from a handler, typed as the route's declared problem response so the
 * openapi handler type accepts it (problem() itself returns an untyped Response;
 * the body is the same).
 */
export function problemResponse<S extends ContentfulStatusCode>(
  c: Context,
  p: ProblemInput & { status: S },
): Response & TypedResponse<ProblemBody, S, 'json'> {
  return problem(c, p) as Response & TypedResponse<ProblemBody, S, 'json'>;
}
