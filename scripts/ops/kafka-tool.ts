/**
 * Kafka's own command-line tools, from the jars the native stack already resolved
 * (STACK_DIR/cache/kafka-lib), pointed at KAFKA_BROKERS:
 *
 *   npm run ops:kafka-tool -- consumer-groups --describe --state --all-groups
 *   npm run ops:kafka-tool -- consumer-groups --reset-offsets --to-earliest \
 *        --group clickhouse-crm-users --topic crm.public.users --execute
 *   npm run ops:kafka-tool -- get-offsets --topic crm.public.users --time -2    (-2: earliest, -1: latest)
 *   npm run ops:kafka-tool -- delete-records --offset-json-file offsets.json
 *
 * The tools are the upstream kafka-consumer-groups.sh, kafka-get-offsets.sh and
 * kafka-delete-records.sh: every option of theirs works; --bootstrap-server is added.
 * Exit code is the tool's.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadDotEnv } from '@cdc/config';
import { loadStackConfig } from '../stack/config.js';
import { javaCommand } from '../stack/components/jvm.js';

const TOOLS: Record<string, string> = {
  'consumer-groups': 'org.apache.kafka.tools.consumer.group.ConsumerGroupCommand',
  'get-offsets': 'org.apache.kafka.tools.GetOffsetShell',
  'delete-records': 'org.apache.kafka.tools.DeleteRecordsCommand',
};

loadDotEnv();
const [tool, ...args] = process.argv.slice(2);
const mainClass = TOOLS[tool ?? ''];
if (!mainClass) {
  console.error(`usage: npm run ops:kafka-tool -- <${Object.keys(TOOLS).join('|')}> [options of the Kafka tool]`);
  process.exit(2);
}
const config = loadStackConfig();
const lib = join(config.cacheDir, 'kafka-lib');
if (!existsSync(join(lib, '.complete'))) {
  console.error(`no Kafka jars in ${lib}: run npm run stack:up once (it resolves them from Maven Central)`);
  process.exit(1);
}
const r = spawnSync(
  javaCommand(),
  [
    `-Dlog4j2.configurationFile=${join(config.root, 'scripts/ops/log4j2-tools.yaml')}`,
    '-cp', `${lib}/*`,
    mainClass,
    '--bootstrap-server', config.env.KAFKA_BROKERS.join(','),
    ...args,
  ],
  { stdio: 'inherit' },
);
process.exit(r.status ?? 1);
