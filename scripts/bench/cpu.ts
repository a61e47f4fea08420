import { readdirSync, readFileSync } from 'node:fs';

/**
 * CPU time per stack component over an interval, from /proc (Linux): what each part
 * of the pipeline costs while a benchmark runs, on the same cores as everything else.
 *
 * A process is named by what the stack put on its command line: JVMs carry
 * `-Dcdc.stack.component=<name>@…` (Kafka, Connect, the registry), Node apps are
 * started as `apps/<name>/src/main.ts`, and every PostgreSQL process counts as
 * `postgres` (its walsenders, the slots' readers, separately as `postgres walsender`).
 * Anything else is `other`, which includes the benchmark itself.
 */
const TICKS_PER_SECOND = 100; // USER_HZ on every Linux the stack supports

export type CpuSnapshot = Map<string, { component: string; seconds: number }>;

export function componentOf(cmdline: string): string {
  const jvm = /-Dcdc\.stack\.component=([a-z0-9-]+)@/.exec(cmdline);
  if (jvm) return jvm[1]!;
  const app = /apps\/([a-z0-9-]+)\/src\/main\.ts/.exec(cmdline);
  if (app) return app[1]!;
  if (/^postgres: .*walsender/.test(cmdline)) return 'postgres walsender';
  if (/(^|\/)postgres( |$)|^postgres: /.test(cmdline)) return 'postgres';
  return 'other';
}

/** CPU seconds (user + system) one process has used so far; undefined once it is gone. */
export function cpuSecondsOf(pid: number): number | undefined {
  try {
    return statOf(readFileSync(`/proc/${pid}/stat`, 'utf8')).seconds;
  } catch {
    return undefined;
  }
}

/** CPU seconds and start time from a /proc/<pid>/stat line. */
function statOf(stat: string): { seconds: number; startTime: string } {
  // The command name may hold spaces and parentheses: the fields start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { seconds: (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND, startTime: fields[19]! };
}

/** CPU seconds (user + system) used so far by every process, keyed by pid and start time. */
export function cpuSnapshot(): CpuSnapshot {
  const out: CpuSnapshot = new Map();
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
      const { seconds, startTime } = statOf(readFileSync(`/proc/${pid}/stat`, 'utf8'));
      // pid + start time: a pid reused during the interval is another process.
      out.set(`${pid}:${startTime}`, { component: componentOf(cmdline), seconds });
    } catch {
      // The process ended between the listing and the read.
    }
  }
  return out;
}

/** Cores used per component between two snapshots taken `elapsedMs` apart, largest first. */
export function cpuBetween(before: CpuSnapshot, after: CpuSnapshot, elapsedMs: number): Array<{ component: string; cores: number }> {
  const used = new Map<string, number>();
  for (const [key, a] of after) {
    const delta = a.seconds - (before.get(key)?.seconds ?? 0);
    if (delta > 0) used.set(a.component, (used.get(a.component) ?? 0) + delta);
  }
  return [...used]
    .map(([component, seconds]) => ({ component, cores: seconds / (elapsedMs / 1000) }))
    .sort((x, y) => y.cores - x.cores);
}
