import { spawn, execFile } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname } from 'node:path';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

/** A failure of one stack component, always naming it and where to look. */
export class StackError extends Error {
  constructor(
    readonly component: string,
    message: string,
    readonly logFile?: string,
  ) {
    super(`[${component}] ${message}${logFile ? `\n  log: ${logFile}` : ''}`);
    this.name = 'StackError';
  }
}

export interface RunResult {
  stdout: string;
  stderr: string;
}

/** Runs a command to completion; a non-zero exit becomes a StackError with its output. */
export async function run(
  component: string,
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<RunResult> {
  try {
    const { stdout, stderr } = await execFileP(cmd, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      timeout: opts.timeoutMs ?? 10 * 60_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    return { stdout, stderr };
  } catch (err) {
    const e = err as { code?: unknown; stdout?: string; stderr?: string; message: string };
    const output = `${e.stdout ?? ''}${e.stderr ?? ''}`.trim().split('\n').slice(-30).join('\n');
    throw new StackError(component, `command failed: ${cmd} ${args.join(' ')}\n${output || e.message}`);
  }
}

export function readPid(pidFile: string): number | undefined {
  if (!existsSync(pidFile)) return undefined;
  const pid = Number(readFileSync(pidFile, 'utf8').trim().split('\n')[0]);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/**
 * True when `pid` is alive and its command line contains `marker`. The marker guards
 * against pid reuse: after a reboot a stale pid file can name an unrelated process,
 * and the stack must never signal a process it did not start.
 */
export function isOurProcess(pid: number | undefined, marker: string): pid is number {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
    return cmdline.includes(marker);
  } catch {
    return false;
  }
}

export interface DetachedSpec {
  component: string;
  command: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  logFile: string;
  pidFile: string;
}

/** Starts a long-running process in its own session, output appended to its log file. */
export function spawnDetached(spec: DetachedSpec): number {
  mkdirSync(dirname(spec.logFile), { recursive: true });
  mkdirSync(dirname(spec.pidFile), { recursive: true });
  const out = openSync(spec.logFile, 'a');
  writeFileSync(out, `\n==== ${new Date().toISOString()} starting ${spec.component} ====\n`);
  const child = spawn(spec.command, spec.args, {
    cwd: spec.cwd,
    env: spec.env,
    detached: true,
    stdio: ['ignore', out, out],
  });
  closeSync(out);
  if (child.pid === undefined) throw new StackError(spec.component, `could not spawn ${spec.command}`, spec.logFile);
  child.unref();
  writeFileSync(spec.pidFile, `${child.pid}\n`);
  return child.pid;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** SIGTERM, wait for a clean exit, SIGKILL only after the grace period. */
export async function stopPid(pid: number, graceMs: number): Promise<'stopped' | 'killed'> {
  const alive = () => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return 'stopped';
  }
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!alive()) return 'stopped';
    await sleep(200);
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    /* exited in between */
  }
  while (alive()) await sleep(100);
  return 'killed';
}

export function removeFile(file: string): void {
  rmSync(file, { force: true });
}

/** Whether something accepts TCP connections on host:port. */
export function portInUse(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (v: boolean) => {
      socket.destroy();
      resolve(v);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export function tail(file: string, lines = 25): string {
  if (!existsSync(file)) return '(no log file yet)';
  const text = readFileSync(file, 'utf8');
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/**
 * Polls `check` until it resolves truthy. Every wait has a deadline; on expiry the error
 * names the component, the last failure seen and the tail of its log.
 */
export async function waitFor(
  component: string,
  check: () => Promise<boolean>,
  opts: { timeoutS: number; logFile?: string; intervalMs?: number; alive?: () => boolean },
): Promise<void> {
  const deadline = Date.now() + opts.timeoutS * 1000;
  let last = 'not ready';
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (err) {
      last = (err as Error).message;
    }
    if (opts.alive && !opts.alive()) {
      throw new StackError(
        component,
        `process exited during start-up (last check: ${last})\n--- last log lines ---\n${opts.logFile ? tail(opts.logFile) : ''}`,
        opts.logFile,
      );
    }
    await sleep(opts.intervalMs ?? 500);
  }
  throw new StackError(
    component,
    `not healthy within ${opts.timeoutS}s (last check: ${last})${opts.logFile ? `\n--- last log lines ---\n${tail(opts.logFile)}` : ''}`,
    opts.logFile,
  );
}

export interface ProcessTable {
  children: Map<number, number[]>;
  rssKb: Map<number, number>;
}

/** One `ps` snapshot of every process: parent links and resident memory. */
export async function processTable(): Promise<ProcessTable> {
  const { stdout } = await execFileP('ps', ['-eo', 'pid=,ppid=,rss=']);
  const children = new Map<number, number[]>();
  const rssKb = new Map<number, number>();
  for (const line of stdout.trim().split('\n')) {
    const [pid, ppid, rss] = line.trim().split(/\s+/).map(Number) as [number, number, number];
    children.set(ppid, [...(children.get(ppid) ?? []), pid]);
    rssKb.set(pid, rss);
  }
  return { children, rssKb };
}

/** Resident memory of a process and all its descendants, in KiB (PostgreSQL forks a process per connection). */
export function treeRssKb(table: ProcessTable, pid: number): number {
  let total = 0;
  const stack = [pid];
  while (stack.length > 0) {
    const p = stack.pop()!;
    total += table.rssKb.get(p) ?? 0;
    stack.push(...(table.children.get(p) ?? []));
  }
  return total;
}

export interface LaunchSpec extends DetachedSpec {
  host: string;
  port: number;
  /** Part of the command line that identifies this component's process (see isOurProcess). */
  marker: string;
  healthy: () => Promise<boolean>;
  timeoutS: number;
  intervalMs?: number;
}

/**
 * Starts a long-running component and returns once it is healthy: its port must be
 * free (a foreign process there is an error, not "already running"), and a process
 * that dies while starting ends the wait at once with its log.
 */
export async function launch(spec: LaunchSpec): Promise<void> {
  if (await portInUse(spec.host, spec.port)) {
    throw new StackError(spec.component, `port ${spec.port} is already taken by a process this stack did not start`, spec.logFile);
  }
  const pid = spawnDetached(spec);
  await waitFor(spec.component, spec.healthy, {
    timeoutS: spec.timeoutS,
    logFile: spec.logFile,
    intervalMs: spec.intervalMs,
    alive: () => isOurProcess(pid, spec.marker),
  });
}

/** Stops the process named by `pidFile` if the stack started it; `graceMs` before SIGKILL. */
export async function stopStarted(pidFile: string, marker: string, graceMs: number): Promise<'stopped' | 'killed' | 'not running'> {
  const pid = readPid(pidFile);
  if (!isOurProcess(pid, marker)) return 'not running';
  const result = await stopPid(pid, graceMs);
  removeFile(pidFile);
  return result;
}
