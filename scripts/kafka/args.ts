import { parseArgs } from 'node:util';
import { UsageError } from './errors.js';
import type { TailOptions } from './tail.js';

export const USAGE = `usage: tsx scripts/kafka/cli.ts <command> [options]

commands:
  topics [topic…]        every topic (or the named ones): partitions, per-partition high
                         watermark, estimated message count (high − low), cleanup.policy;
                         Kafka's internal topics are marked
  groups [group…]        consumer groups: state, members, and per topic-partition the
                         committed offset, high watermark and lag; total lag per group
  tail <topic>           print messages as JSON lines {partition, offset, timestamp, key,
                         headers, value, format}, the value decoded per message: Confluent
                         wire format → Avro (needs SCHEMA_REGISTRY_URL), else JSON, else raw
                         (base64 + utf8); a null value is a tombstone. Consumes through a
                         throw-away group that commits nothing and is deleted on exit.
    --from-beginning     start at the oldest retained message (default: only new ones)
    --max <n>            stop after n messages
    --partition <p>      only partition p
    --timeout-ms <t>     stop after t ms without a message (default 10000; 0 = follow)

options:
  --json                 topics/groups: print JSON instead of tables
  -h, --help

Environment (or .env): KAFKA_BROKERS (default 127.0.0.1:9092), SCHEMA_REGISTRY_URL (optional),
             KAFKA_CLI_LOG_LEVEL (kafkajs' log on stderr; default silent).
Exit codes: 0 ok, 1 runtime failure (broker, topic, group or registry named), 2 usage.`;

export type Command =
  | { command: 'help' }
  | { command: 'topics'; topics: string[]; json: boolean }
  | { command: 'groups'; groups: string[]; json: boolean }
  | ({ command: 'tail' } & TailOptions);

const DEFAULT_TAIL_TIMEOUT_MS = 10_000;

function nonNegativeInt(name: string, v: string | undefined, min = 0): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < min || !Number.isSafeInteger(Number(v))) {
    throw new UsageError(`${name} must be an integer ≥ ${min}, got "${v}"`);
  }
  return Number(v);
}

/** Parses argv (without node and the script). Throws UsageError on anything malformed. */
export function parseCommand(argv: readonly string[]): Command {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        json: { type: 'boolean' },
        'from-beginning': { type: 'boolean' },
        max: { type: 'string' },
        partition: { type: 'string' },
        'timeout-ms': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values: o, positionals } = parsed;
  const [command, ...rest] = positionals;
  if (o.help || command === 'help') return { command: 'help' };
  const tailOnly = (['from-beginning', 'max', 'partition', 'timeout-ms'] as const).filter((k) => o[k] !== undefined);

  switch (command) {
    case 'topics':
    case 'groups': {
      if (tailOnly.length > 0) throw new UsageError(`--${tailOnly[0]} is an option of tail only`);
      return command === 'topics' ? { command, topics: rest, json: !!o.json } : { command, groups: rest, json: !!o.json };
    }
    case 'tail': {
      if (o.json) throw new UsageError('tail always prints JSON lines; --json is for topics and groups');
      const [topic, ...extra] = rest;
      if (!topic) throw new UsageError('tail needs a topic');
      if (extra.length > 0) throw new UsageError(`unexpected argument: ${extra.join(' ')}`);
      return {
        command,
        topic,
        fromBeginning: !!o['from-beginning'],
        max: nonNegativeInt('--max', o.max, 1),
        partition: nonNegativeInt('--partition', o.partition),
        timeoutMs: nonNegativeInt('--timeout-ms', o['timeout-ms']) ?? DEFAULT_TAIL_TIMEOUT_MS,
      };
    }
    case undefined:
      throw new UsageError('missing the command (topics, groups or tail)');
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}
