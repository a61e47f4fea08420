import type { Context, TypedResponse } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { z } from '@hono/zod-openapi';
import { problem, PROBLEM_CONTENT_TYPE, validationProblem, type InputIssue, type ProblemInput } from '@cdc/http';

export const InputIssueSchema = z
  .object({
    path: z.string().openapi({ example: 'signal_amplitude', description: 'Dotted path inside the item or body; "" is the item itself' }),
    message: z.string().openapi({ example: 'Invalid input: expected number, received Infinity' }),
    code: z.string().optional().openapi({ example: 'invalid_type' }),
  })
  .openapi('InputIssue');

/** The problem+json body packages/http sends, described for OpenAPI. */
export const ProblemSchema = z
  .object({
    type: z.string().openapi({ example: 'https://cdc-pipeline.local/problems/validation-error' }),
    title: z.string().openapi({ example: 'The request is not valid' }),
    status: z.int().openapi({ example: 422 }),
    detail: z.string().optional(),
    instance: z.string().openapi({ example: '/telemetry-events' }),
    request_id: z.string().optional().openapi({ description: 'Also in the X-Request-Id response header' }),
    errors: z.array(InputIssueSchema).optional().openapi({ description: 'Every problem with the input, not only the first' }),
  })
  .openapi('Problem');
export type ProblemBody = z.infer<typeof ProblemSchema>;

const content = { [PROBLEM_CONTENT_TYPE]: { schema: ProblemSchema } } as const;
const described = (description: string) => ({ description, content });

/** Problem responses by status, for spreading into createRoute's `responses`. */
export const problemResponses = {
  400: described('The body is not valid JSON'),
  404: described('No event with this event_uuid'),
  409: described('The event_uuid is already stored with a different payload; errors names the differing fields'),
  413: described('The body is larger than the documented limit of the route'),
  415: described('Content-Type is not application/json'),
  422: described('The input breaks the schema; errors lists every problem'),
  500: described('Unexpected failure; request_id identifies it in the logs'),
  503: described('The database is unavailable; retry after the Retry-After header (seconds)'),
} as const;

export function problems<K extends keyof typeof problemResponses>(...codes: K[]): Pick<typeof problemResponses, K> {
  return Object.fromEntries(codes.map((k) => [k, problemResponses[k]])) as Pick<typeof problemResponses, K>;
}

/**
 * problem() from a handler, typed as the route's declared problem response so the
 * openapi handler type accepts it (problem() returns an untyped Response; the body
 * is the same).
 */
export function problemResponse<S extends ContentfulStatusCode>(
  c: Context,
  p: ProblemInput & { status: S },
): Response & TypedResponse<ProblemBody, S, 'json'> {
  return problem(c, p) as Response & TypedResponse<ProblemBody, S, 'json'>;
}

/** validationProblem() typed like problemResponse(): 422 listing every issue. */
export function invalidInput(c: Context, errors: InputIssue[]): Response & TypedResponse<ProblemBody, 422, 'json'> {
  return validationProblem(c, errors) as Response & TypedResponse<ProblemBody, 422, 'json'>;
}
