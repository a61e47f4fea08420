/**
 * Registers the Debezium connectors of connectors/*.json with Kafka Connect and waits
 * until each is RUNNING. Safe to repeat: an unchanged config changes nothing.
 *
 *   npm run setup:connectors [-- [--dir connectors/] [crm-connector …]]
 *
 * Exits non-zero, printing the failed task's stack trace, when a connector does not
 * reach RUNNING. The database addresses are not in the files: the Connect worker
 * resolves ${env:…} from its own environment (see KAFKA_DEBEZIUM_SETUP.md).
 */
import { parseArgs } from 'node:util';
import { loadDotEnv, loadEndpoints } from '@cdc/config';
import { applyConnector, ConnectClient, loadConnectorDefinitions, waitForConnect } from './lib/connectors.js';

loadDotEnv();
const env = loadEndpoints();
const { values: args, positionals: only } = parseArgs({ options: { dir: { type: 'string' } }, allowPositionals: true });
const client = new ConnectClient(env.KAFKA_CONNECT_URL);

const definitions = loadConnectorDefinitions(args.dir).filter((d) => only.length === 0 || only.includes(d.name));
if (definitions.length === 0) {
  console.error(`no connector definition matches ${only.join(', ')}`);
  process.exit(2);
}

let failed = 0;
try {
  await waitForConnect(client, 60_000);
  for (const def of definitions) {
    const t0 = Date.now();
    try {
      const status = await applyConnector(client, def);
      console.log(`✔ ${def.name.padEnd(22)} RUNNING (${status.tasks.length} task) in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
    } catch (err) {
      failed++;
      console.error(`✘ ${def.name}: ${(err as Error).message}`);
    }
  }
} catch (err) {
  console.error(`✘ ${(err as Error).message}`);
  process.exit(1);
}
process.exit(failed === 0 ? 0 : 1);
