import { loadDotEnv } from '@cdc/config';
import { relative, resolve } from 'node:path';
import { loadStackConfig, REPO_ROOT } from './config.js';
import { describeSecrets, ensureSecrets } from './secrets.js';
import { consoleTokenFile } from './console.js';
import { down, reset, restartComponent, status, stopComponent, up, type Tier } from './stack.js';
import { StackError, tail } from './proc.js';
import { components } from './stack.js';

const USAGE = `usage: stack <command>
  up [--infra]     start everything (or only the infrastructure tier), in order, waiting for health
  down             stop what the stack started (apps first); data is kept
  status           health, pid, address and log file of every component
  reset            down, then delete all data under the state directory (downloads kept)
  logs <name>      last lines of a component's log
  restart <name>   stop one component and start it again, waiting for health (new app code, a wedged process)
  stop <name>      stop one component (up or restart brings it back)`;

function consoleTokenHint(config: ReturnType<typeof loadStackConfig>): string {
  return config.env.CONSOLE_TOKEN ? 'CONSOLE_TOKEN' : `cat ${relative(process.cwd(), consoleTokenFile(config))}`;
}

function whereThingsAre(config: ReturnType<typeof loadStackConfig>): string {
  const e = config.env;
  return [
    '',
    `  Console            http://127.0.0.1:${e.CONSOLE_PORT}        write token: ${consoleTokenHint(config)}`,
    `  CRM API            http://127.0.0.1:${e.CRM_API_PORT}        docs: http://127.0.0.1:${e.CRM_API_PORT}/docs`,
    `  Telemetry API      http://127.0.0.1:${e.TELEMETRY_API_PORT}        docs: http://127.0.0.1:${e.TELEMETRY_API_PORT}/docs`,
    `  Stream processor   http://127.0.0.1:${e.STREAM_PROCESSOR_PORT}        docs: http://127.0.0.1:${e.STREAM_PROCESSOR_PORT}/docs   query: /query?sql=SELECT+1`,
    `  ClickHouse HTTP    ${config.clickhouse.url.origin}/?query=SELECT+1`,
    `  Kafka bootstrap    ${e.KAFKA_BROKERS.join(',')}`,
    `  Kafka Connect      ${config.connect.url.origin}/connectors`,
    `  Schema registry    ${config.registry.url.href}subjects   (Confluent API; browse schemas: http://127.0.0.1:${e.CONSOLE_PORT}/schemas)`,
    ...config.postgres.map((p) => `  PostgreSQL         ${p.database} at ${p.url.hostname}:${p.port}`),
    '',
    '  Check the pipeline:  npm run test:kafka-debezium',
    '  Query ClickHouse:    npm run sql -- "SELECT * FROM debezium.freshness"   (cookbook: docs/analytics-cookbook.md)',
    '  Inspect Kafka:       npm run kafka:topics | kafka:groups | kafka:tail -- <topic>',
    '',
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  // Before anything reads .env: the first `up` writes the generated passwords into it.
  const envFile = resolve(REPO_ROOT, '.env');
  if (argv[0] === 'up') for (const line of describeSecrets(ensureSecrets(envFile))) console.log(line);
  loadDotEnv(envFile);
  const config = loadStackConfig();
  const log = (line: string) => console.log(line);
  const [command, ...rest] = argv;
  switch (command) {
    case 'up': {
      const tiers: Tier[] = rest.includes('--infra') ? ['infrastructure'] : ['infrastructure', 'apps'];
      const t0 = Date.now();
      await up(config, tiers, log);
      log(`stack up in ${((Date.now() - t0) / 1000).toFixed(1)}s — state in ${config.stateDir}`);
      if (tiers.includes('apps')) log(whereThingsAre(config));
      return 0;
    }
    case 'down':
      await down(config, log);
      return 0;
    case 'status': {
      const lines = await status(config);
      const mib = (kb: number | undefined) => (kb === undefined ? '-' : `${Math.round(kb / 1024)} MiB`);
      for (const s of lines) {
        const state = s.health.ok ? 'healthy' : s.pid ? 'UNHEALTHY' : 'down';
        log(
          `${s.name.padEnd(18)} ${state.padEnd(9)} pid=${String(s.pid ?? '-').padEnd(7)} rss=${mib(s.rssKb).padEnd(9)} ${s.address.padEnd(30)} ${s.health.detail}`,
        );
      }
      log(`total RSS of running components: ${mib(lines.reduce((sum, s) => sum + (s.rssKb ?? 0), 0))}`);
      return lines.every((s) => s.health.ok) ? 0 : 1;
    }
    case 'reset':
      await reset(config, log);
      return 0;
    case 'restart':
      await restartComponent(config, rest[0] ?? '', log);
      return 0;
    case 'stop':
      await stopComponent(config, rest[0] ?? '', log);
      return 0;
    case 'logs': {
      const c = components(config).find((x) => x.name === rest[0]);
      if (!c) {
        console.error(`unknown component "${rest[0] ?? ''}"; one of: ${components(config).map((x) => x.name).join(', ')}`);
        return 2;
      }
      log(`${c.logFile}\n${tail(c.logFile, 60)}`);
      return 0;
    }
    default:
      console.error(USAGE);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof StackError ? `✘ ${err.message}` : err);
    process.exit(1);
  },
);
