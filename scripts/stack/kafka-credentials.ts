import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createKafka } from '@cdc/kafka';
import type { StackConfig } from './config.js';
import { PRINCIPAL_PASSWORD_VARS, type Principal } from './kafka-acl.js';
import { run } from './proc.js';
import { javaCommand } from './components/jvm.js';

/**
 * The broker's principals and how each proves who it is (docs/security.md, "Kafka").
 *
 * Every client uses SCRAM-SHA-512, except ClickHouse: chDB's bundled librdkafka is
 * built without SCRAM ("No provider for SASL mechanism SCRAM-SHA-512 … Current build
 * options: PLAIN"), so the broker also offers PLAIN, to the `clickhouse` principal and
 * the admin only. SCRAM credentials live in the cluster's metadata, so they can only be
 * written through an authenticated connection: the stack's own bootstrap connection
 * is the admin's PLAIN login, whose password the broker reads from its environment at
 * every start, and it (re)writes any SCRAM credential that does not match .env.
 */
export interface Credential {
  user: string;
  password: string;
}

/** Every principal but ClickHouse, which logs in with PLAIN. */
export const SCRAM_PRINCIPALS: Principal[] = (Object.keys(PRINCIPAL_PASSWORD_VARS) as Principal[]).filter((p) => p !== 'clickhouse');

export function adminCredential(config: StackConfig): Credential {
  return { user: config.env.KAFKA_USER, password: config.env.KAFKA_PASSWORD };
}

export function principalCredential(config: StackConfig, principal: Principal): Credential {
  return { user: principal, password: config.env[PRINCIPAL_PASSWORD_VARS[principal]] };
}

/** Everyone who logs in with SCRAM: the admin and the apps' principals. */
export function scramCredentials(config: StackConfig): Credential[] {
  return [adminCredential(config), ...SCRAM_PRINCIPALS.map((p) => principalCredential(config, p))];
}

/** Whether `credential` logs in with SCRAM-SHA-512 (false only for a refused login). */
export async function scramLogsIn(address: string, credential: Credential): Promise<boolean> {
  const admin = createKafka(
    { brokers: [address], ...credential, logLevel: 'silent', tuning: { connectionTimeout: 2000, retry: { retries: 0 } } },
    'stack-credential-check',
  ).admin();
  try {
    await admin.connect();
    return true;
  } catch (err) {
    if ((err as Error).name === 'KafkaJSSASLAuthenticationError') return false;
    throw err;
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

/**
 * Writes `credential` as a SCRAM-SHA-512 user with Kafka's own tool (kafkajs has no
 * AlterUserScramCredentials). Its arguments go through a java @argfile readable only
 * by its owner, so no password shows in the process list.
 */
export async function writeScram(config: StackConfig, libDir: string, address: string, credential: Credential): Promise<void> {
  const dir = mkdtempSync(join(config.kafka.dir, 'scram-'));
  try {
    const admin = adminCredential(config);
    const clientProps = join(dir, 'admin.properties');
    writeFileSync(
      clientProps,
      [
        'security.protocol=SASL_PLAINTEXT',
        'sasl.mechanism=PLAIN',
        `sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="${admin.user}" password="${admin.password}";`,
      ].join('\n'),
      { mode: 0o600 },
    );
    const args = join(dir, 'args');
    writeFileSync(
      args,
      [
        'kafka.admin.ConfigCommand',
        '--bootstrap-server', address,
        '--command-config', clientProps,
        '--alter', '--entity-type', 'users', '--entity-name', credential.user,
        '--add-config', `SCRAM-SHA-512=[iterations=8192,password=${credential.password}]`,
      ].join('\n'),
      { mode: 0o600 },
    );
    await run('kafka-scram', javaCommand(), ['-cp', `${libDir}/*`, `-Dlog4j2.configurationFile=${join(config.root, 'scripts/stack/maven/log4j2.yaml')}`, `@${args}`]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
