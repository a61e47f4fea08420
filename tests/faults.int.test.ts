import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logLevel } from 'kafkajs';
import { createKafka, kafkaAccess } from '@cdc/kafka';
import { analyticsEqual } from '../scripts/lib/analytics-compare.js';
import { describeDiff, isEqual } from '../scripts/lib/cdc-compare.js';
import { reportTable, runFault, TARGETS, type FaultResult } from '../scripts/faults/suite.js';
import { loadStackConfig } from '../scripts/stack/config.js';
import { createTestKey, type TestKey } from './support/api-keys.js';
import { clickhouse, env, pools } from './support/cdc.js';

/**
 * The fault suite's short mode (the long one: `npm run faults`): under a steady load
 * through both APIs, every process of the pipeline is killed with SIGKILL once and
 * brought back by the stack; after each, PostgreSQL = ClickHouse, the views equal a
 * recomputation, no acknowledged write is lost or duplicated and every replication
 * slot is active again.
 */
const config = loadStackConfig();
const db = pools();
const ch = clickhouse();
const admin = createKafka({ ...kafkaAccess(env), logLevel: 'silent' }, 'faults-test').admin();
const results: FaultResult[] = [];

let apiKey: TestKey;

beforeAll(async () => {
  await admin.connect();
  apiKey = await createTestKey({ name: 'fault suite', scopes: ['users:write', 'telemetry:write'] });
});

afterAll(async () => {
  if (results.length > 0) console.log(`[faults] short mode\n${reportTable(results)}`);
  await Promise.allSettled([admin.disconnect(), db.crm.end(), db.telemetry.end(), ch.close()]);
});

describe('kill -9 under load, one process at a time', () => {
  for (const target of TARGETS) {
    it(`${target}: nothing lost, nothing duplicated, everything equal again`, async () => {
      const r = await runFault(target, {
        config,
        db,
        ch,
        admin,
        ratePerS: 15,
        apiKey: apiKey.token,
        beforeMs: 3_000,
        afterMs: 3_000,
        catchUpMs: 240_000,
        log: (line) => console.log(`[faults] ${line}`),
      });
      results.push(r);
      expect(r.load.acknowledged).toBeGreaterThan(0);
      expect(r.load.abandoned, 'writes never acknowledged').toBe(0);
      expect(isEqual(r.users), describeDiff(r.users)).toBe(true);
      expect(isEqual(r.telemetry), describeDiff(r.telemetry)).toBe(true);
      expect(analyticsEqual(r.analytics), JSON.stringify(r.analytics)).toBe(true);
      expect({ lost: r.lost, duplicated: r.duplicated, inactiveSlots: r.inactiveSlots }).toEqual({ lost: 0, duplicated: 0, inactiveSlots: [] });
    }, 420_000);
  }
});
