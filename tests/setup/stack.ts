import { resolve } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { createKafka, kafkaAccess } from '@cdc/kafka';
import { loadDotEnv } from '@cdc/config';
import { loadStackConfig, REPO_ROOT, type StackConfig } from '../../scripts/stack/config.js';
import { down, reset, up } from '../../scripts/stack/stack.js';
import { TEST_STACK_ENV } from './test-stack-env.js';

/**
 * Integration tests run against real servers: the tests' own native stack
 * (tests/setup/test-stack-env.ts: `.stack-test/`, ports shifted by 10,000), started
 * here from empty state and stopped after the run, so every run starts from the same
 * place and the user's stack (`npm run up`) is never touched.
 *
 *   TEST_STACK_REUSE=1   keep the test stack's data from the last run (faster, less repeatable)
 *   TEST_STACK_KEEP=1    leave the test stack running afterwards (to look at it, or to
 *                        re-run single files quickly with TEST_STACK_REUSE=1)
 *
 * After the run, a consumer group that no stack component owns is a test that did not
 * clean up after itself: the run fails and names it.
 *
 * STACK_PROVIDER=testcontainers runs the infrastructure of docker-compose.yaml through
 * testcontainers instead, for machines with a Docker engine. It publishes the native
 * stack's default host ports, so the tests need no other change. This path cannot
 * run on the project's own machines (no Docker engine) and is kept deliberately thin.
 */
const INFRA_SERVICES = ['postgres-crm', 'postgres-telemetry', 'kafka', 'kafka-init', 'connect', 'schema-registry', 'clickhouse'];

/** Groups of the stack's own components: Kafka Connect, ClickHouse's Kafka engine, the stream processor. */
const STACK_GROUPS = /^(cdc-connect|clickhouse-crm-users|clickhouse-telemetry-events|stream-processor-(users|enrich|users-dead-lettered))$/;

const flag = (name: string) => ['1', 'true', 'yes'].includes(process.env[name] ?? '');

export default async function setup(): Promise<(() => Promise<void>) | void> {
  loadDotEnv();
  if (process.env.STACK_PROVIDER === 'testcontainers') return testcontainers();

  const config = loadStackConfig();
  refuseAnythingButTheTestStack(config);
  const log = (line: string) => console.log(`[test-stack] ${line}`);
  if (!flag('TEST_STACK_REUSE')) await reset(config, log);
  await up(config, ['infrastructure'], log);

  return async () => {
    try {
      const leaked = await foreignGroups(config);
      if (leaked.length > 0) {
        throw new Error(`tests left consumer groups behind (each test removes what it creates): ${leaked.join(', ')}`);
      }
    } finally {
      if (!flag('TEST_STACK_KEEP')) await down(config, log);
    }
  };
}

/** A last guard: whatever the environment says, this setup resets only the tests' own state directory. */
function refuseAnythingButTheTestStack(config: StackConfig): void {
  const expected = resolve(REPO_ROOT, TEST_STACK_ENV.STACK_DIR);
  if (config.stateDir !== expected || config.env.KAFKA_BROKERS.join(',') !== TEST_STACK_ENV.KAFKA_BROKERS) {
    throw new Error(`the integration tests run only on the test stack (${expected}, Kafka ${TEST_STACK_ENV.KAFKA_BROKERS}); got ${config.stateDir}, Kafka ${config.env.KAFKA_BROKERS.join(',')}`);
  }
}

async function foreignGroups(config: StackConfig): Promise<string[]> {
  const admin = createKafka({ ...kafkaAccess(config.env), logLevel: 'silent' }, 'test-teardown').admin();
  await admin.connect();
  try {
    return (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => !STACK_GROUPS.test(g)).sort();
  } finally {
    await admin.disconnect();
  }
}

async function testcontainers(): Promise<() => Promise<void>> {
  const { DockerComposeEnvironment, Wait } = await import('testcontainers');
  const env = await new DockerComposeEnvironment(REPO_ROOT, 'docker-compose.yaml')
    .withDefaultWaitStrategy(Wait.forHealthCheck())
    .withWaitStrategy('kafka-init-1', Wait.forOneShotStartup())
    .withStartupTimeout(300_000)
    .up(INFRA_SERVICES);
  return async () => {
    await env.down();
  };
}
