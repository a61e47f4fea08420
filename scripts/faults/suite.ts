import type { ClickHouseClient } from '@clickhouse/client';
import type { Admin } from 'kafkajs';
import type pg from 'pg';
import { analyticsEqual, diffAnalytics, groupCaughtUp, type AnalyticsDiff } from '../lib/analytics-compare.js';
import { diffTable, isEqual, TELEMETRY_EVENTS, USERS, type TableDiff } from '../lib/cdc-compare.js';
import type { StackConfig } from '../stack/config.js';
import { processTable } from '../stack/proc.js';
import { components, up } from '../stack/stack.js';
import { startLoad, type LoadReport } from './load.js';

/** Every process of the pipeline the suite kills, one at a time. */
export const TARGETS = [
  'kafka-connect',
  'kafka',
  'stream-processor',
  'clickhouse',
  'postgres-crm',
  'postgres-telemetry',
  'crm-api',
  'telemetry-api',
  'schema-registry',
] as const;
export type Target = (typeof TARGETS)[number];

export interface FaultResult {
  target: Target;
  /** kill -9 → the component healthy again (the stack restarts it). */
  restartMs: number;
  /** kill -9 → every acknowledged write in ClickHouse and the views equal to a recomputation. */
  recoveredMs: number;
  load: Omit<LoadReport, 'users' | 'events'> & { acknowledged: number };
  /** Acknowledged writes missing from PostgreSQL or ClickHouse. */
  lost: number;
  /** Rows ClickHouse or the views hold beyond PostgreSQL (extra or double-counted). */
  duplicated: number;
  users: TableDiff;
  telemetry: TableDiff;
  analytics: AnalyticsDiff;
  /** Replication slots still inactive at the end (a stalled connector). */
  inactiveSlots: string[];
}

export interface FaultContext {
  config: StackConfig;
  db: { crm: pg.Pool; telemetry: pg.Pool };
  ch: ClickHouseClient;
  admin: Admin;
  ratePerS: number;
  /** The load's API key (scripts/keys/temporary.ts): users:write, telemetry:write. */
  apiKey: string;
  /** Load before the kill and after the restart. */
  beforeMs: number;
  afterMs: number;
  /** How long the pipeline may take to catch up after the load stops. */
  catchUpMs: number;
  log: (line: string) => void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** SIGKILL to the process and all its descendants (PostgreSQL's backends too): a crash. */
export async function killTree(pid: number): Promise<void> {
  const table = await processTable();
  const all: number[] = [];
  const stack = [pid];
  while (stack.length > 0) {
    const p = stack.pop()!;
    all.push(p);
    stack.push(...(table.children.get(p) ?? []));
  }
  for (const p of all) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  // Until every one is gone (reaped): PostgreSQL refuses to start while the pid in its
  // postmaster.pid still exists, and a restart right after the kill would race that.
  const alive = (p: number) => {
    try {
      process.kill(p, 0);
      return true;
    } catch {
      return false;
    }
  };
  await poll(Date.now() + 15_000, async () => (all.some(alive) ? undefined : true));
}

async function poll<T>(deadline: number, fn: () => Promise<T | undefined>): Promise<T | undefined> {
  for (;;) {
    const v = await fn();
    if (v !== undefined || Date.now() > deadline) return v;
    await sleep(1_000);
  }
}

async function missingFromPostgres(ctx: FaultContext, report: LoadReport): Promise<number> {
  const [{ rows: u }, { rows: e }] = await Promise.all([
    ctx.db.crm.query<{ n: string }>('SELECT count(*) AS n FROM users WHERE email = ANY($1::text[])', [report.users]),
    ctx.db.telemetry.query<{ n: string }>('SELECT count(*) AS n FROM telemetry_events WHERE event_uuid = ANY($1::uuid[])', [report.events]),
  ]);
  return report.users.length - Number(u[0]!.n) + (report.events.length - Number(e[0]!.n));
}

async function inactiveSlots(ctx: FaultContext): Promise<string[]> {
  const q = "SELECT slot_name FROM pg_replication_slots WHERE NOT active AND slot_name LIKE 'dbz_%'";
  const [a, b] = await Promise.all([ctx.db.crm.query<{ slot_name: string }>(q), ctx.db.telemetry.query<{ slot_name: string }>(q)]);
  return [...a.rows, ...b.rows].map((r) => r.slot_name);
}

/**
 * One fault under load: writes flow through both APIs, `target` is killed with
 * SIGKILL and the stack brings it back; after the load stops, the pipeline must
 * catch up to exact equality: PostgreSQL = ClickHouse (users, telemetry_events) and
 * the processor's views = a recomputation, with every acknowledged write present and
 * every replication slot active again.
 */
export async function runFault(target: Target, ctx: FaultContext): Promise<FaultResult> {
  const component = components(ctx.config).find((c) => c.name === target);
  if (!component) throw new Error(`no stack component ${target}`);
  const load = startLoad({
    crmUrl: `http://127.0.0.1:${ctx.config.env.CRM_API_PORT}`,
    telemetryUrl: `http://127.0.0.1:${ctx.config.env.TELEMETRY_API_PORT}`,
    ratePerS: ctx.ratePerS,
    apiKey: ctx.apiKey,
    tag: `${target}-${Date.now()}`,
  });
  await sleep(ctx.beforeMs);

  const pid = component.pid();
  if (pid === undefined) throw new Error(`${target} is not running (no pid)`);
  ctx.log(`kill -9 ${target} (pid ${pid}) with ${load.acknowledged()} writes acknowledged so far`);
  const killedAt = Date.now();
  await killTree(pid);
  await poll(Date.now() + 15_000, async () => (component.pid() === undefined ? true : undefined));
  await up(ctx.config);
  const restartMs = Date.now() - killedAt;
  ctx.log(`${target} healthy again after ${restartMs} ms`);

  await sleep(ctx.afterMs);
  const report = await load.stop();
  ctx.log(`load stopped: ${report.operations} operations, ${report.users.length} users + ${report.events.length} events acknowledged, ${report.retries} retries`);

  // Catch-up: exact equality everywhere, or the deadline.
  const deadline = Date.now() + ctx.catchUpMs;
  let users!: TableDiff;
  let telemetry!: TableDiff;
  await poll(deadline, async () => {
    [users, telemetry] = await Promise.all([diffTable(USERS, ctx.db.crm, ctx.ch), diffTable(TELEMETRY_EVENTS, ctx.db.telemetry, ctx.ch)]);
    return isEqual(users) && isEqual(telemetry) ? true : undefined;
  });
  ctx.log(`PostgreSQL = ClickHouse: ${isEqual(users) && isEqual(telemetry)} at +${Date.now() - killedAt} ms`);
  await poll(deadline, async () => ((await groupCaughtUp(ctx.admin, 'stream-processor-enrich', 'telemetry.public.telemetry_events')) ? true : undefined));
  ctx.log(`processor caught up at +${Date.now() - killedAt} ms`);
  let analytics!: AnalyticsDiff;
  await poll(deadline, async () => {
    analytics = await diffAnalytics(ctx.ch);
    return analyticsEqual(analytics) ? true : undefined;
  });
  const recoveredMs = Date.now() - killedAt;
  let slots: string[] = [];
  await poll(Date.now() + 30_000, async () => ((slots = await inactiveSlots(ctx)).length === 0 ? true : undefined));

  const lost = (await missingFromPostgres(ctx, report)) + users.missing.length + telemetry.missing.length + analytics.enriched.missing;
  const duplicated = users.extra.length + telemetry.extra.length + analytics.enriched.extra;
  const { users: u, events: e, ...counts } = report;
  return {
    target,
    restartMs,
    recoveredMs,
    load: { ...counts, acknowledged: u.length + e.length },
    lost,
    duplicated,
    users,
    telemetry,
    analytics,
    inactiveSlots: slots,
  };
}

export const faultPassed = (r: FaultResult) =>
  r.lost === 0 && r.duplicated === 0 && isEqual(r.users) && isEqual(r.telemetry) && analyticsEqual(r.analytics) && r.inactiveSlots.length === 0 && r.load.abandoned === 0;

/** The README's report table. */
export function reportTable(results: FaultResult[]): string {
  const rows = results.map((r) =>
    [
      r.target,
      r.load.acknowledged.toLocaleString('en-US'),
      r.load.retries.toLocaleString('en-US'),
      r.lost,
      r.duplicated,
      isEqual(r.users) && isEqual(r.telemetry) ? 'equal' : 'DIFFERENT',
      analyticsEqual(r.analytics) ? 'equal' : 'DIFFERENT',
      r.inactiveSlots.length === 0 ? 'none' : r.inactiveSlots.join(' '),
      (r.restartMs / 1000).toFixed(1),
      (r.recoveredMs / 1000).toFixed(1),
      faultPassed(r) ? 'pass' : 'FAIL',
    ].join(' | '),
  );
  return [
    '| killed (-9) | writes acknowledged | client retries | lost | duplicated | PostgreSQL = ClickHouse | views = recomputation | inactive slots | back up (s) | recovered (s) | |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r} |`),
  ].join('\n');
}
