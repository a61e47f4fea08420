import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../src/server.js';
import { startTestServer } from './support.js';

/**
 * The official ClickHouse Java clients — the JDBC v2 driver (DBeaver, Metabase, Superset's
 * JDBC path) and client-v2 — at their defaults against chdb-server: the Maven project in
 * tests/jdbc, run against a server this file starts. The first run downloads the
 * clients and Maven's plugins from Maven Central (minutes); later runs take seconds.
 */

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const PROJECT = join(REPO_ROOT, 'tests/jdbc');
const REPORTS = join(PROJECT, 'target/surefire-reports');

/**
 * The server's account, and so the Java clients' credentials: change them here and both
 * sides follow.
 */
// The product's own users file: the Java tests connect as the pipeline user, which
// may create the tables they need, with the password a user sets in .env.
const USERS_FILE = fileURLToPath(new URL('../../../clickhouse/users.yaml', import.meta.url));
process.env.CLICKHOUSE_PASSWORD ??= 'jdbc-test-pipeline';
process.env.CLICKHOUSE_ANALYST_PASSWORD ??= 'jdbc-test-analyst';
const ANALYST_PASSWORD = process.env.CLICKHOUSE_ANALYST_PASSWORD;
const SERVER_ENV = { CHDB_USERS_FILE: USERS_FILE };
const CREDENTIALS = { user: 'pipeline', password: process.env.CLICKHOUSE_PASSWORD };

const MAVEN_TIMEOUT_MS = 9 * 60_000;
const execFileAsync = promisify(execFile);
// Maven 3.8 still emits colour resets in batch mode.
const ANSI = /\x1b\[[0-9;]*m/g;

interface JavaTest {
  name: string; // Class.method
  seconds: number;
  outcome: 'passed' | 'failed' | 'error' | 'skipped';
  message?: string;
}

let server: RunningServer;
let maven: ChildProcess | undefined;

beforeAll(async () => {
  server = await startTestServer(SERVER_ENV);
}, 60_000);

afterAll(async () => {
  // A run cut short by the timeout: end Maven and the test JVM it forked (its process group).
  if (maven?.pid !== undefined && maven.exitCode === null) {
    try {
      process.kill(-maven.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await server?.close();
}, 60_000);

describe('official ClickHouse Java clients (tests/jdbc)', () => {
  it(
    'JDBC v2 driver and client-v2 0.10.0 at their defaults',
    async () => {
      expect(spawnSync('mvn', ['-v'], { stdio: 'ignore' }).status, 'Maven (mvn) is on PATH: bash scripts/install.sh').toBe(0);
      rmSync(REPORTS, { recursive: true, force: true });

      const started = Date.now();
      const { code, tail } = await runMaven([
        '-B',
        '-q',
        '-Dstyle.color=never',
        '-f',
        join(PROJECT, 'pom.xml'),
        'test',
        `-Dch.url=${server.url}`,
        `-Dch.user=${CREDENTIALS.user}`,
        `-Dch.password=${CREDENTIALS.password}`,
      ]);
      const seconds = ((Date.now() - started) / 1000).toFixed(1);

      const tests = readReports();
      const count = (o: JavaTest['outcome']) => tests.filter((t) => t.outcome === o).length;
      const line = (t: JavaTest) =>
        `  ${t.outcome.toUpperCase().padEnd(7)} ${t.name} (${t.seconds.toFixed(2)} s)` +
        (t.message ? `\n            ${t.message.split('\n').slice(0, 3).join('\n            ')}` : '');
      console.log(
        `Java client tests: ${tests.length} run, ${count('passed')} passed, ` +
          `${count('failed') + count('error')} failed, ${count('skipped')} skipped (mvn exit ${code}, ${seconds} s)\n` +
          tests.map(line).join('\n'),
      );

      if (tests.length === 0) {
        throw new Error(`Maven ran no Java test (exit ${code}); its last output:\n${tail.join('\n')}`);
      }
      const bad = tests.filter((t) => t.outcome === 'failed' || t.outcome === 'error');
      if (bad.length > 0) {
        throw new Error(`${bad.length} of ${tests.length} Java client tests failed:\n${bad.map(line).join('\n')}`);
      }
      expect(code, `mvn exit code; its last output:\n${tail.join('\n')}`).toBe(0);
    },
    MAVEN_TIMEOUT_MS + 60_000,
  );
});

describe("the analyst's grants through JDBC", () => {
  it(
    "a DBeaver-style read of a contact column ends in the driver's SQLException with ACCESS_DENIED (497)",
    async () => {
      const asPipeline = async (sql: string): Promise<void> => {
        const res = await fetch(server.url, { method: 'POST', body: sql, headers: { Authorization: basic(CREDENTIALS.user, CREDENTIALS.password) } });
        expect(res.status, await res.text()).toBe(200);
      };
      await asPipeline('CREATE TABLE IF NOT EXISTS default.users (id Int32, email String, country String) ENGINE = MergeTree ORDER BY id');
      await asPipeline("INSERT INTO default.users VALUES (1, 'ann@example.com', 'DE')");

      const classpath = join(tmpdir(), `chdb-server-jdbc-classpath-${process.pid}.txt`);
      const cp = spawnSync(
        'mvn',
        ['-B', '-q', '-f', join(PROJECT, 'pom.xml'), 'dependency:build-classpath', '-Dmdep.includeScope=test', `-Dmdep.outputFile=${classpath}`],
        { cwd: REPO_ROOT, encoding: 'utf8', timeout: MAVEN_TIMEOUT_MS },
      );
      expect(cp.status, `${cp.stdout}${cp.stderr}`).toBe(0);
      // Asynchronously: the server answering the driver runs in this very process.
      const query = async (sql: string): Promise<string> => {
        const args = [
          '-cp',
          readFileSync(classpath, 'utf8').trim(),
          join(REPO_ROOT, 'apps/chdb-server/test/jdbc/JdbcQuery.java'),
          `jdbc:clickhouse:${server.url}/default`,
          'analyst',
          ANALYST_PASSWORD,
          sql,
        ];
        const { stdout } = await execFileAsync('java', args, { encoding: 'utf8', timeout: 120_000 });
        return stdout.trim();
      };
      const denied = await query('SELECT id, email FROM default.users');
      expect(denied).toMatch(/^ERROR 497 /);
      expect(denied).toContain("analyst: Not enough privileges. To execute this query, it's necessary to have the grant SELECT(email) ON default.users");
      expect(denied).not.toContain('ann@example.com');
      expect(await query('SELECT country FROM default.users')).toBe('OK DE');
      rmSync(classpath, { force: true });
    },
    MAVEN_TIMEOUT_MS + 60_000,
  );
});

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

/** Runs Maven in the repo root, streams its output into the test log, keeps the last lines. */
function runMaven(args: string[]): Promise<{ code: number | null; tail: string[] }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn('mvn', args, {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group, so a timeout ends the forked test JVM too
      env: { ...process.env, MAVEN_OPTS: process.env.MAVEN_OPTS ?? '-Xmx512m' },
    });
    maven = child;
    const tail: string[] = [];
    const keep = (raw: string, stream: NodeJS.WriteStream) => {
      const line = raw.replace(ANSI, '');
      if (line.trim() === '') return;
      stream.write(`[mvn] ${line}\n`);
      tail.push(line);
      if (tail.length > 80) tail.shift();
    };
    createInterface({ input: child.stdout! }).on('line', (l) => keep(l, process.stdout));
    createInterface({ input: child.stderr! }).on('line', (l) => keep(l, process.stderr));
    const timer = setTimeout(() => {
      keep(`(timed out after ${MAVEN_TIMEOUT_MS / 1000} s: stopping Maven)`, process.stderr);
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }, MAVEN_TIMEOUT_MS);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, tail });
    });
  });
}

/** Every test case of Surefire's XML reports (TEST-*.xml), in report order. */
function readReports(): JavaTest[] {
  if (!existsSync(REPORTS)) return [];
  const tests: JavaTest[] = [];
  for (const file of readdirSync(REPORTS).filter((f) => /^TEST-.*\.xml$/.test(f)).sort()) {
    const xml = readFileSync(join(REPORTS, file), 'utf8');
    for (const m of xml.matchAll(/<testcase\b([^>]*?)(?:\/>|>([\s\S]*?)<\/testcase>)/g)) {
      const attrs = attributes(m[1]!);
      const body = m[2] ?? '';
      const problem = /<(failure|error)\b([^>]*?)(?:\/>|>([\s\S]*?)<\/\1>)/.exec(body);
      const shortClass = (attrs.classname ?? '').split('.').pop();
      const test: JavaTest = {
        name: attrs.name && attrs.name !== shortClass ? `${shortClass}.${attrs.name}` : `${shortClass}`,
        seconds: Number(attrs.time ?? 0),
        outcome: problem ? (problem[1] === 'failure' ? 'failed' : 'error') : /<skipped\b/.test(body) ? 'skipped' : 'passed',
      };
      if (problem) {
        const pa = attributes(problem[2]!);
        test.message = pa.message ?? decode(problem[3] ?? '').trim().split('\n')[0] ?? pa.type;
        if (pa.type && !test.message?.startsWith(pa.type)) test.message = `${pa.type}: ${test.message}`;
      }
      tests.push(test);
    }
  }
  return tests.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function attributes(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of s.matchAll(/([\w:.-]+)="([^"]*)"/g)) out[m[1]!] = decode(m[2]!);
  return out;
}

function decode(s: string): string {
  return s
    .replace(/<!\[CDATA\[([\s\S]*?)\]\]>/g, '$1')
    .replace(/&#(x?)([0-9a-fA-F]+);/g, (_, hex: string, n: string) => String.fromCodePoint(Number.parseInt(n, hex ? 16 : 10)))
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
}
