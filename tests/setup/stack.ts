import { loadDotEnv } from '@cdc/config';
import { loadStackConfig, REPO_ROOT } from '../../scripts/stack/config.js';
import { up } from '../../scripts/stack/stack.js';

/**
 * Integration tests run against real servers. By default that is the native stack
 * (scripts/stack), brought up here or found already running, and left running for the
 * next run (`npm run stack:down` stops it).
 *
 * STACK_PROVIDER=testcontainers runs the infrastructure of docker-compose.yaml through
 * testcontainers instead, for machines with a Docker engine. It publishes the same
 * host ports as the native stack, so the tests need no other change. This path cannot
 * run on the project's own machines (no Docker engine) and is kept deliberately thin.
 */
const INFRA_SERVICES = ['postgres-crm', 'postgres-telemetry', 'kafka', 'kafka-init', 'connect', 'schema-registry', 'clickhouse'];

export default async function setup(): Promise<(() => Promise<void>) | void> {
  loadDotEnv();
  if (process.env.STACK_PROVIDER === 'testcontainers') {
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
  const config = loadStackConfig();
  await up(config, ['infrastructure'], (line) => console.log(`[stack] ${line}`));
}
