import type { RunningQueries, RunningQuery } from './control.js';
import type { User } from './users.js';

/**
 * `KILL QUERY WHERE query_id = '…'` (or `IN (…)`), the form clients send to
 * stop their own query (JDBC's Statement.cancel(), clickhouse-client's Ctrl+C).
 * The engine knows a query by its own id, not the client's, so this server
 * answers these itself, out of every request's lane. Other KILL forms go to the
 * engine.
 */
export interface KillRequest {
  ids: string[];
  mode: 'SYNC' | 'ASYNC' | 'TEST';
  format: string | undefined;
}

const STRING = String.raw`'(?:\\.|[^'\\])*'`;
const KILL = new RegExp(
  String.raw`^\s*KILL\s+QUERY\s+WHERE\s+query_id\s*(?:=\s*(${STRING})|IN\s*\(\s*(${STRING}(?:\s*,\s*${STRING})*)\s*\))` +
    String.raw`\s*(SYNC|ASYNC|TEST)?\s*(?:FORMAT\s+([A-Za-z][A-Za-z0-9_]*))?\s*;?\s*$`,
  'i',
);

function unquote(literal: string): string {
  return literal.slice(1, -1).replace(/\\(.)/g, '$1');
}

export function parseKill(sql: string): KillRequest | undefined {
  const m = KILL.exec(sql);
  if (!m) return undefined;
  const list = m[1] ?? m[2] ?? '';
  const ids = (list.match(new RegExp(STRING, 'g')) ?? []).map(unquote);
  return { ids, mode: (m[3]?.toUpperCase() ?? 'ASYNC') as KillRequest['mode'], format: m[4] };
}

/** Only a user's own queries, unless the user is not read-only (the pipeline's admin). */
function mayKill(killer: User, q: RunningQuery): boolean {
  return killer.name === q.user || killer.profile.readonly === 0;
}

const SYNC_WAIT_MS = 10_000;

/**
 * Stops the matching queries and returns the rows a server answers with
 * (kill_status, query_id, user, query), as a VALUES list for the engine to
 * render in the requested format.
 */
export async function runKill(
  request: KillRequest,
  killer: User,
  running: RunningQueries,
): Promise<string> {
  const targets = request.ids
    .map((id) => running.get(id))
    .filter((q): q is RunningQuery => q !== undefined && mayKill(killer, q));
  if (request.mode !== 'TEST') await Promise.all(targets.map((q) => q.cancel()));
  let status = 'waiting';
  if (request.mode === 'SYNC') {
    const deadline = Date.now() + SYNC_WAIT_MS;
    while (targets.some((q) => running.get(q.queryId) === q) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    status = targets.some((q) => running.get(q.queryId) === q) ? 'pending' : 'finished';
  }
  const q = (s: string): string => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  const rows = targets.map((t) => `(${q(status)}, ${q(t.queryId)}, ${q(t.user)}, ${q(t.sql)})`);
  if (rows.length === 0) {
    return `SELECT '' AS kill_status, '' AS query_id, '' AS user, '' AS query WHERE 0`;
  }
  return `SELECT * FROM values('kill_status String, query_id String, user String, query String', ${rows.join(', ')})`;
}
