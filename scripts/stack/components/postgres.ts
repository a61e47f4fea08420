import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import pg from 'pg';
import type { Component, Health } from '../component.js';
import type { PgCluster, StackConfig } from '../config.js';
import { isOurProcess, portInUse, run, StackError, tail, waitFor } from '../proc.js';

/**
 * Settings Debezium needs (logical decoding, a slot and a WAL sender per connector
 * plus headroom for the smoke test and re-snapshots) and one that protects the disk:
 * an abandoned slot may retain at most this much WAL before PostgreSQL invalidates it.
 */
const CLUSTER_SETTINGS: Record<string, string> = {
  listen_addresses: "'127.0.0.1'",
  wal_level: 'logical',
  max_replication_slots: '10',
  max_wal_senders: '10',
  max_slot_wal_keep_size: "'4GB'",
  max_connections: '200',
  shared_buffers: "'128MB'",
  logging_collector: 'off',
  log_line_prefix: "'%m [%p] %q%u@%d '",
  log_min_duration_statement: '1000',
};

const isRoot = process.getuid?.() === 0;

/** PostgreSQL refuses to run as root: on a root shell, run its binaries as `postgres`. */
function asPostgres(bin: string, args: string[]): [string, string[]] {
  return isRoot ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
}

/**
 * PostgreSQL runs as `postgres` and must reach its data directory under the repo. A
 * checkout in a private directory (mktemp -d makes 0700 ones) blocks it, so each
 * ancestor that denies others the right to pass through gets search permission
 * (o+x: pass through only, never list or read).
 */
function letPostgresReach(dir: string): void {
  if (!isRoot) return;
  for (let d = resolve(dir); ; d = dirname(d)) {
    if (existsSync(d)) {
      const { mode } = statSync(d);
      if ((mode & 0o001) === 0) chmodSync(d, (mode & 0o7777) | 0o001);
    }
    if (d === dirname(d)) return;
  }
}

function ownByPostgres(path: string): void {
  if (!isRoot) return;
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
  chownSync(path, uid, gid);
}

export class PostgresCluster implements Component {
  readonly tier = 'infrastructure' as const;
  readonly name: string;
  readonly address: string;
  readonly logFile: string;

  constructor(
    private readonly cluster: PgCluster,
    private readonly config: StackConfig,
  ) {
    this.name = cluster.name;
    this.address = `${cluster.url.hostname}:${cluster.port}/${cluster.database}`;
    this.logFile = cluster.logFile;
  }

  private bin(name: string): string {
    return join(this.config.env.PG_BIN, name);
  }

  private get password(): string {
    const password = decodeURIComponent(this.cluster.url.password);
    if (!password) throw new StackError(this.name, `${this.cluster.url.origin}: the database URL has no password (npm run up generates one into .env)`);
    return password;
  }

  private get user(): string {
    return decodeURIComponent(this.cluster.url.username || 'postgres');
  }

  async install(): Promise<void> {
    if (!existsSync(this.bin('initdb'))) {
      throw new StackError(
        this.name,
        `PostgreSQL 15 binaries not found in ${this.config.env.PG_BIN} (install Debian's postgresql-15, or set PG_BIN)`,
      );
    }
    const { dataDir } = this.cluster;
    const clusterDir = dirname(dataDir);
    letPostgresReach(dirname(clusterDir));
    if (existsSync(join(dataDir, 'PG_VERSION'))) return;

    // Parents first with normal permissions: `recursive` would give them 0700 too,
    // and the postgres user must be able to traverse the state directory.
    mkdirSync(clusterDir, { recursive: true, mode: 0o755 });
    mkdirSync(dataDir, { mode: 0o700 });
    mkdirSync(dirname(this.logFile), { recursive: true });
    const pwFile = join(clusterDir, '.pwfile');
    writeFileSync(pwFile, `${this.password}\n`, { mode: 0o600 });
    for (const p of [clusterDir, dataDir, pwFile]) ownByPostgres(p);
    try {
      const [cmd, args] = asPostgres(this.bin('initdb'), [
        '-D', dataDir,
        '-U', this.user,
        `--pwfile=${pwFile}`,
        '--auth-local=trust',
        '--auth-host=scram-sha-256',
        '--encoding=UTF8',
        '--locale=C.UTF-8',
      ]);
      await run(this.name, cmd, args);
    } finally {
      rmSync(pwFile, { force: true });
    }
    const conf = Object.entries({
      ...CLUSTER_SETTINGS,
      port: String(this.cluster.port),
      // The socket lives with the cluster so two clusters never fight over /var/run.
      unix_socket_directories: `'${clusterDir}'`,
    })
      .map(([k, v]) => `${k} = ${v}`)
      .join('\n');
    const confFile = join(dataDir, 'postgresql.auto.conf');
    writeFileSync(confFile, `# written by scripts/stack (cdc-pipeline)\n${conf}\n`);
    // Debezium connects with a replication connection; allow it on loopback with a password.
    const hba = join(dataDir, 'pg_hba.conf');
    writeFileSync(
      hba,
      `${readFileSync(hba, 'utf8')}\nhost replication all 127.0.0.1/32 scram-sha-256\n`,
    );
    ownByPostgres(confFile);
  }

  pid(): number | undefined {
    const pidFile = join(this.cluster.dataDir, 'postmaster.pid');
    if (!existsSync(pidFile)) return undefined;
    const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
    return isOurProcess(pid, 'postgres') ? pid : undefined;
  }

  private client(database: string): pg.Client {
    return new pg.Client({
      host: this.cluster.url.hostname,
      port: this.cluster.port,
      user: this.user,
      password: this.password,
      database,
      connectionTimeoutMillis: 2000,
      query_timeout: 5000,
    });
  }

  async health(): Promise<Health> {
    const c = this.client(this.cluster.database);
    try {
      await c.connect();
      const r = await c.query<{ wal_level: string }>('SHOW wal_level');
      const wal = r.rows[0]?.wal_level;
      return wal === 'logical'
        ? { ok: true, detail: 'accepting connections, wal_level=logical' }
        : { ok: false, detail: `wal_level=${wal}, Debezium needs logical` };
    } catch (err) {
      return { ok: false, detail: (err as Error).message };
    } finally {
      await c.end().catch(() => {});
    }
  }

  async start(): Promise<void> {
    if (this.pid() === undefined && (await portInUse(this.cluster.url.hostname, this.cluster.port))) {
      throw new StackError(
        this.name,
        `port ${this.cluster.port} is already taken by a process this stack did not start; free it or change the database URL`,
      );
    }
    const [cmd, args] = asPostgres(this.bin('pg_ctl'), [
      '-D', this.cluster.dataDir,
      '-l', this.logFile,
      '-w', '-t', String(this.config.env.STACK_WAIT_POSTGRES_S),
      'start',
    ]);
    if (isRoot && !existsSync(this.logFile)) {
      writeFileSync(this.logFile, '');
      ownByPostgres(this.logFile);
    }
    try {
      await run(this.name, cmd, args);
    } catch (err) {
      throw new StackError(
        this.name,
        `${(err as Error).message}\n--- last log lines ---\n${tail(this.logFile)}`,
        this.logFile,
      );
    }
    await waitFor(this.name, async () => (await this.serverUp()), {
      timeoutS: this.config.env.STACK_WAIT_POSTGRES_S,
      logFile: this.logFile,
    });
  }

  /**
   * Over the cluster's own Unix socket, where initdb set trust: it works whatever
   * password the role has, so the stack can set the one in .env (a cluster made
   * before passwords were generated, or a password rotated in .env).
   */
  private socketClient(): pg.Client {
    return new pg.Client({
      host: dirname(this.cluster.dataDir),
      port: this.cluster.port,
      user: this.user,
      database: 'postgres',
      connectionTimeoutMillis: 2000,
      query_timeout: 5000,
    });
  }

  /** The server answers, whether or not the application database exists yet. */
  private async serverUp(): Promise<boolean> {
    const c = this.socketClient();
    try {
      await c.connect();
      await c.query('SELECT 1');
      return true;
    } finally {
      await c.end().catch(() => {});
    }
  }

  async afterStart(): Promise<void> {
    const c = this.socketClient();
    await c.connect();
    try {
      // The role's password is the one in the database URL, every start: nothing else
      // keeps the two in step when .env changes.
      await c.query(`ALTER ROLE ${c.escapeIdentifier(this.user)} PASSWORD ${c.escapeLiteral(this.password)}`);
      const exists = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [this.cluster.database]);
      if (exists.rowCount === 0) {
        await c.query(`CREATE DATABASE "${this.cluster.database.replaceAll('"', '""')}"`);
      }
    } finally {
      await c.end();
    }
  }

  async stop(): Promise<'stopped' | 'not running'> {
    if (this.pid() === undefined) return 'not running';
    const [cmd, args] = asPostgres(this.bin('pg_ctl'), ['-D', this.cluster.dataDir, '-m', 'fast', '-w', 'stop']);
    await run(this.name, cmd, args);
    return 'stopped';
  }
}
