import type { Context, TypedResponse } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { z } from '@hono/zod-openapi';
import { problem, PROBLEM_CONTENT_TYPE, validationProblem, type InputIssue, type ProblemInput } from './problem.js';

/** The problem+json body `problem()` sends, described for /openapi.json. */
export const InputIssueSchema = z
  .object({
    path: z.string().openapi({ example: 'signal_amplitude', description: 'Dotted path inside the body (or param./query.); "" is the body itself' }),
    message: z.string().openapi({ example: 'Invalid input: expected number, received string' }),
    code: z.string().optional().openapi({ example: 'invalid_type' }),
  })
  .openapi('InputIssue');

export const ProblemSchema = z
  .object({
    type: z.string().openapi({ example: 'https://cdc-pipeline.local/problems/validation-error' }),
    title: z.string().openapi({ example: 'The request is not valid' }),
    status: z.int().openapi({ example: 422 }),
    detail: z.string().optional(),
    instance: z.string().openapi({ description: 'The request path' }),
    request_id: z.string().optional().openapi({ description: 'Also in the X-Request-Id response header' }),
    errors: z.array(InputIssueSchema).optional().openapi({ description: 'Every problem with the input, not only the first' }),
  })
  .openapi('Problem');
export type ProblemBody = z.infer<typeof ProblemSchema>;

const problemContent = { [PROBLEM_CONTENT_TYPE]: { schema: ProblemSchema } } as const;
type ProblemDoc = { description: string; content: typeof problemContent };

/** Status → description, turned into createRoute `responses` entries with the Problem schema. */
export function problemDocs<const D extends Record<number, string>>(descriptions: D): { [K in keyof D]: ProblemDoc } {
  return Object.fromEntries(
    Object.entries(descriptions).map(([status, description]) => [status, { description, content: problemContent }]),
  ) as { [K in keyof D]: ProblemDoc };
}

/** The subset of a route's problem responses, for spreading into `responses`. */
export function pickProblems<D extends Record<number, ProblemDoc>, K extends keyof D>(docs: D, ...codes: K[]): Pick<D, K> {
  return Object.fromEntries(codes.map((k) => [k, docs[k]])) as Pick<D, K>;
}

/**
 * problem() from an openapi handler, typed as the route's declared problem response
 * so the handler type-checks (the body is the same as problem()'s).
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
