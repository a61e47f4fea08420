export interface Health {
  ok: boolean;
  /** What was checked, or why it failed: shown by `stack:status`. */
  detail: string;
}

/**
 * One process of the native stack. `up` installs, then starts only what is not
 * already healthy, then waits; `down` stops only what the stack itself started.
 */
export interface Component {
  readonly name: string;
  readonly tier: 'infrastructure' | 'apps';
  /** Where it listens, for status lines and the URLs printed after `up`. */
  readonly address: string;
  readonly logFile: string;
  /** Downloads and one-time initialisation; must be idempotent. */
  install(): Promise<void>;
  /** Pid of the running process the stack started, if any. */
  pid(): number | undefined;
  health(): Promise<Health>;
  /** Starts the process and returns once it is healthy (or throws a StackError). */
  start(): Promise<void>;
  /** Idempotent work that needs the process up (databases, topics). */
  afterStart?(): Promise<void>;
  stop(): Promise<'stopped' | 'killed' | 'not running'>;
}
