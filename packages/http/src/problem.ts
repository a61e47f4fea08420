import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { z } from 'zod';

/** One problem with the input: where (`path`, JSON-pointer-like) and what. */
export interface InputIssue {
  path: string;
  message: string;
  code?: string;
}

/** What a handler says about a failure; `problem()` adds where and which request. */
export interface ProblemInput {
  type: string;
  title: string;
  status: number;
  detail?: string;
  errors?: InputIssue[];
  [extension: string]: unknown;
}

/** RFC 9457 problem details, with `errors` listing every input issue at once. */
export interface Problem extends ProblemInput {
  instance: string;
  request_id?: string;
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

const TYPE_BASE = 'https://cdc-pipeline.local/problems/';

/** Stable problem types: clients branch on `type`, people read `title`. */
export const ProblemType = {
  malformedJson: `${TYPE_BASE}malformed-json`,
  unsupportedMediaType: `${TYPE_BASE}unsupported-media-type`,
  payloadTooLarge: `${TYPE_BASE}payload-too-large`,
  validation: `${TYPE_BASE}validation-error`,
  notFound: `${TYPE_BASE}not-found`,
  conflict: `${TYPE_BASE}conflict`,
  unauthorized: `${TYPE_BASE}unauthorized`,
  forbidden: `${TYPE_BASE}forbidden`,
  rateLimited: `${TYPE_BASE}rate-limited`,
  unavailable: `${TYPE_BASE}dependency-unavailable`,
  internal: `${TYPE_BASE}internal-error`,
} as const;

export function problem(c: Context, p: ProblemInput): Response {
  const body: Problem = {
    ...p,
    instance: c.req.path,
    request_id: c.get('requestId' as never) as string | undefined,
  };
  return c.body(JSON.stringify(body), p.status as ContentfulStatusCode, { 'content-type': PROBLEM_CONTENT_TYPE });
}

/** zod issues → input issues with dotted paths (`items.3.signal_amplitude`). */
export function issuesFromZod(error: z.ZodError, prefix: (string | number)[] = []): InputIssue[] {
  return error.issues.map((i) => {
    const path = [...prefix, ...i.path].map(String).join('.');
    // Unknown keys are one issue per key so a client can see each one.
    if (i.code === 'unrecognized_keys') {
      return { path, message: `unknown field(s): ${i.keys.join(', ')}`, code: i.code };
    }
    return { path, message: i.message, code: i.code };
  });
}

export function validationProblem(c: Context, errors: InputIssue[], detail?: string): Response {
  return problem(c, {
    type: ProblemType.validation,
    title: 'The request is not valid',
    status: 422,
    detail: detail ?? `${errors.length} problem(s) with the input; see errors.`,
    errors,
  });
}

/** Seconds a client should wait before retrying while a dependency is down. */
export const RETRY_AFTER_SECONDS = 5;

/**
 * 503 for a dependency that does not answer, with Retry-After: long enough for a
 * restarting PostgreSQL, short enough that clients come back soon.
 */
export function dependencyUnavailable(c: Context, what: string): Response {
  c.header('Retry-After', String(RETRY_AFTER_SECONDS));
  return problem(c, {
    type: ProblemType.unavailable,
    title: `${what[0]!.toUpperCase()}${what.slice(1)} unavailable`,
    status: 503,
    detail: `the ${what} cannot be reached; retry later`,
  });
}
