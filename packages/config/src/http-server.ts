import { z } from 'zod';

/**
 * How long an API waits for a client (docs/security.md, "Slow and idle clients"):
 * a client that sends its headers or its body too slowly, or connects and sends
 * nothing, is cut off after these times instead of holding a socket for minutes.
 * Node's own defaults are 60 s for headers and 300 s for a whole request.
 */
export const httpServerEnv = z.object({
  API_HEADERS_TIMEOUT_MS: z.coerce.number().int().min(1_000).max(120_000).default(10_000),
  // A whole request, body included: an 8 MiB batch over a slow link still fits.
  API_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(1_000).max(600_000).default(60_000),
});

export interface HttpServerTimeouts {
  headersMs: number;
  requestMs: number;
}

export const toHttpServerTimeouts = (e: z.infer<typeof httpServerEnv>): HttpServerTimeouts => ({
  headersMs: e.API_HEADERS_TIMEOUT_MS,
  requestMs: e.API_REQUEST_TIMEOUT_MS,
});
