import { Kafka, logLevel, type Admin, type KafkaConfig, type LogEntry, type SASLOptions } from 'kafkajs';
import pino, { type Logger } from 'pino';
import { KafkaInspectError } from './errors.js';

export type KafkaLogLevel = 'silent' | 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

/**
 * The kafkajs client of every command and app. Its log goes to stderr through pino
 * (a command's stdout carries tables and JSON lines, which must stay parseable). Timeouts and
 * retries are short because an inspection command against an unreachable broker
 * should fail in seconds, naming the broker, rather than retry for a minute.
 */
const LEVEL: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

const KAFKAJS_LEVEL: Record<KafkaLogLevel, logLevel> = {
  silent: logLevel.NOTHING,
  fatal: logLevel.ERROR,
  error: logLevel.ERROR,
  warn: logLevel.WARN,
  info: logLevel.INFO,
  debug: logLevel.DEBUG,
  trace: logLevel.DEBUG,
};

/**
 * Where a client connects and whom it authenticates as. Every listener of the stack's
 * broker requires SASL; clients use SCRAM-SHA-512, so no password crosses the wire.
 */
export interface KafkaAccess {
  brokers: readonly string[];
  user: string;
  password: string;
}

/** The access a process's configuration describes (KAFKA_BROKERS, KAFKA_USER, KAFKA_PASSWORD). */
export function kafkaAccess(e: { KAFKA_BROKERS: readonly string[]; KAFKA_USER: string; KAFKA_PASSWORD: string }): KafkaAccess {
  return { brokers: e.KAFKA_BROKERS, user: e.KAFKA_USER, password: e.KAFKA_PASSWORD };
}

export function saslOf(access: KafkaAccess): SASLOptions {
  return { mechanism: 'scram-sha-512', username: access.user, password: access.password };
}

export interface CreateKafkaOptions {
  logLevel: KafkaLogLevel;
  /** Where kafkajs's lines go; unset: a pino logger on stderr named `kafkajs`. */
  logger?: Logger;
  /** Timeouts and retries other than an inspection command's. */
  tuning?: Pick<KafkaConfig, 'connectionTimeout' | 'requestTimeout' | 'retry'>;
}

export function createKafka(config: KafkaAccess & CreateKafkaOptions, clientId = 'cdc-kafka-cli'): Kafka {
  const log = config.logger ?? pino({ name: 'kafkajs', level: config.logLevel }, pino.destination(2));
  return new Kafka({
    clientId,
    brokers: [...config.brokers],
    sasl: saslOf(config),
    connectionTimeout: 3_000,
    requestTimeout: 15_000,
    retry: { retries: 2, initialRetryTime: 200 },
    ...config.tuning,
    logLevel: KAFKAJS_LEVEL[config.logLevel],
    logCreator:
      () =>
      ({ level, label, namespace, log: { message, ...extra } }: LogEntry) =>
        log[LEVEL[level] ?? 'error']({ namespace, label, ...extra }, message),
  });
}

/** Runs `fn` with a connected admin client, wrapping a connection failure with the broker list. */
export async function withAdmin<T>(kafka: Kafka, brokers: readonly string[], fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = kafka.admin();
  try {
    await admin.connect();
  } catch (err) {
    throw new KafkaInspectError(`cannot connect to Kafka at ${brokers.join(',')}: ${(err as Error).message}`, { cause: err });
  }
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect().catch(() => {});
  }
}
