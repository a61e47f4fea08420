import { pickProblems, problemDocs } from '@cdc/http';

export { problemResponse } from '@cdc/http';

/** The user routes' problem responses, as documented in /openapi.json. */
export const problemResponses = problemDocs({
  400: 'The body is not valid JSON',
  401: 'No valid API key (missing, malformed, unknown, revoked or expired); WWW-Authenticate says which scheme',
  403: 'The API key lacks the scope this route needs (security names it)',
  404: 'No user with this id',
  409: 'Another user already has this e-mail address (errors names the field)',
  413: 'The body is larger than the documented limit',
  415: 'Content-Type is not application/json',
  422: 'The input breaks the schema; errors lists every problem',
  429: 'The API key is over its requests per second; retry after the Retry-After header',
  500: 'Unexpected failure; request_id identifies it in the logs',
  503: 'The database is unavailable; retry after the Retry-After header',
});

export function problems<K extends keyof typeof problemResponses>(...codes: K[]) {
  return pickProblems(problemResponses, ...codes);
}
