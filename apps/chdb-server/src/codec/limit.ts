import { Codes, chError } from '../errors.js';

/**
 * The error for a request body over CHDB_MAX_BODY_BYTES, whether as sent or
 * once decoded: every decoder in codec/ throws this same one, so a zip bomb
 * and a plain oversized body look alike to the client.
 */
export function tooLarge(limit: number): Error {
  return chError(
    Codes.QUERY_IS_TOO_LARGE,
    `Request body exceeds the limit of ${limit} bytes (CHDB_MAX_BODY_BYTES)`,
  );
}
