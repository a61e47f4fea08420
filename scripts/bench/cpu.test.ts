import { describe, expect, it } from 'vitest';
import { componentOf, cpuBetween, cpuSnapshot, type CpuSnapshot } from './cpu.js';

describe('componentOf', () => {
  it('names stack processes by what the stack put on their command lines', () => {
    expect(componentOf('java -Xmx512m -Dcdc.stack.component=kafka-connect@/repo/.stack -cp x org.apache.kafka.connect.cli.ConnectDistributed')).toBe('kafka-connect');
    expect(componentOf('/usr/bin/node --max-old-space-size=160 --import tsx /repo/apps/stream-processor/src/main.ts')).toBe('stream-processor');
    expect(componentOf('postgres: 15/main: walsender postgres 127.0.0.1(41236) START_REPLICATION')).toBe('postgres walsender');
    expect(componentOf('postgres: 15/main: checkpointer')).toBe('postgres');
    expect(componentOf('/usr/lib/postgresql/15/bin/postgres -D /repo/.stack/pg')).toBe('postgres');
    expect(componentOf('/usr/bin/node scripts/bench/cdc.ts')).toBe('other');
  });
});

describe('cpuBetween', () => {
  it('adds up each component’s processes and divides by the interval', () => {
    const before: CpuSnapshot = new Map([
      ['1:10', { component: 'kafka', seconds: 5 }],
      ['2:20', { component: 'postgres', seconds: 1 }],
      ['3:30', { component: 'postgres', seconds: 1 }],
    ]);
    const after: CpuSnapshot = new Map([
      ['1:10', { component: 'kafka', seconds: 6 }],
      ['2:20', { component: 'postgres', seconds: 2 }],
      ['3:30', { component: 'postgres', seconds: 2.5 }],
      // Started during the interval: all of its time counts.
      ['4:40', { component: 'console', seconds: 0.2 }],
    ]);
    expect(cpuBetween(before, after, 2000)).toEqual([
      { component: 'postgres', cores: 1.25 },
      { component: 'kafka', cores: 0.5 },
      { component: 'console', cores: 0.1 },
    ]);
  });

  it('reads this very process from /proc', () => {
    const mine = [...cpuSnapshot().keys()].some((k) => k.startsWith(`${process.pid}:`));
    expect(mine).toBe(true);
  });
});
