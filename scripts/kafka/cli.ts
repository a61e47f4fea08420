/**
 * Kafka inspection commands for the pipeline's broker: topics, consumer groups with
 * lag, and a decoding tail. Read-only towards every real group and topic.
 *
 *   tsx scripts/kafka/cli.ts topics [--json]
 *   tsx scripts/kafka/cli.ts groups [group…] [--json]
 *   tsx scripts/kafka/cli.ts tail <topic> [--from-beginning] [--max N] [--partition P] [--timeout-ms T]
 *
 * See USAGE in args.ts for the details and exit codes.
 */
import { loadDotEnv } from '@cdc/config';
import { parseCommand, USAGE, type Command } from './args.js';
import { createKafka, withAdmin } from '@cdc/kafka';
import { loadKafkaCliConfig, type KafkaCliConfig } from './config.js';
import { createRegistryDecoder } from '@cdc/kafka';
import { KafkaInspectError } from '@cdc/kafka';
import { EXIT, UsageError } from './errors.js';
import { formatGroups, formatTopics } from './format.js';
import { describeGroups } from '@cdc/kafka';
import { tail } from './tail.js';
import { describeTopics } from '@cdc/kafka';

const print = (text: string) => process.stdout.write(`${text}\n`);

async function run(cmd: Exclude<Command, { command: 'help' }>, config: KafkaCliConfig): Promise<number> {
  const kafka = createKafka(config);
  return withAdmin(kafka, config.brokers, async (admin) => {
    switch (cmd.command) {
      case 'topics': {
        const topics = await describeTopics(admin, cmd.topics);
        print(cmd.json ? JSON.stringify(topics, null, 2) : formatTopics(topics));
        return EXIT.OK;
      }
      case 'groups': {
        const groups = await describeGroups(admin, cmd.groups);
        print(cmd.json ? JSON.stringify(groups, null, 2) : formatGroups(groups));
        return EXIT.OK;
      }
      case 'tail': {
        const stop = new AbortController();
        const onSignal = () => stop.abort('signal');
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
        // `… | head`: a closed stdout ends the tail cleanly (and still deletes its group).
        process.stdout.on('error', () => stop.abort('output-closed'));
        const registry = config.schemaRegistryUrl ? createRegistryDecoder(config.schemaRegistryUrl) : undefined;
        const result = await tail(kafka, admin, registry, cmd, (line) => void process.stdout.write(`${line}\n`), stop.signal);
        process.stderr.write(`tail ${cmd.topic}: ${result.printed} message(s), stopped: ${result.reason}\n`);
        return EXIT.OK;
      }
    }
  });
}

async function main(argv: string[]): Promise<number> {
  let cmd: Command;
  try {
    cmd = parseCommand(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`error: ${err.message}\n\n${USAGE}\n`);
    return EXIT.USAGE;
  }
  if (cmd.command === 'help') {
    print(USAGE);
    return EXIT.OK;
  }
  loadDotEnv();
  let config: KafkaCliConfig;
  try {
    config = loadKafkaCliConfig();
  } catch (err) {
    process.stderr.write(`error: ${(err as Error).message}\n`);
    return EXIT.FAILURE;
  }
  try {
    return await run(cmd, config);
  } catch (err) {
    // Our own errors already carry their context; anything else gets the brokers and the stack.
    if (err instanceof KafkaInspectError) process.stderr.write(`error: ${err.message}\n`);
    else process.stderr.write(`error (brokers ${config.brokers.join(',')}): ${(err as Error).stack ?? String(err)}\n`);
    return EXIT.FAILURE;
  }
}

process.exitCode = await main(process.argv.slice(2));
