import { pickProblems, problemDocs } from '@cdc/http';

export { InputIssueSchema, invalidInput, problemResponse } from '@cdc/http';

/** The telemetry routes' problem responses, as documented in /openapi.json. */
export const problemResponses = problemDocs({
  400: 'The body is not valid JSON',
  401: 'No valid API key (missing, malformed, unknown, revoked or expired); WWW-Authenticate says which scheme',
  403: 'The API key lacks the scope this route needs (security names it)',
  404: 'No event with this event_uuid',
  409: 'The event_uuid is already stored with a different payload; errors names the differing fields',
  413: 'The body is larger than the documented limit of the route',
  415: 'Content-Type is not application/json',
  422: 'The input breaks the schema; errors lists every problem',
  429: 'The API key is over its requests per second; retry after the Retry-After header',
  500: 'Unexpected failure; request_id identifies it in the logs',
  503: 'The database is unavailable; retry after the Retry-After header (seconds)',
});

export function problems<K extends keyof typeof problemResponses>(...codes: K[]) {
  return pickProblems(problemResponses, ...codes);
}
