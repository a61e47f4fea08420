/**
 * Exit codes of scripts/kafka/cli.ts. 1 is any runtime failure (broker, registry,
 * unknown topic or group); the message names what failed. 2 is a bad command line,
 * detected before anything is contacted.
 */
export const EXIT = { OK: 0, FAILURE: 1, USAGE: 2 } as const;

/** A bad command line: the CLI prints the message and the usage text, exits 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export { KafkaInspectError } from '@cdc/kafka';
