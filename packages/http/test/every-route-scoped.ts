import { expect } from 'vitest';
import type { ApiApp } from '../src/index.js';

const isOpen = (key: string) => key === 'GET /health' || key === 'GET /openapi.json' || /^GET \/docs(\/|$)/.test(key);

/**
 * Every route the app serves is open (health, docs) or documents the scope it needs:
 * the key check finds scopes in /openapi.json, so a route added without one would
 * answer any valid key. Returns "METHOD path scope" lines for the caller to check.
 */
export async function expectEveryRouteScoped(app: ApiApp): Promise<string[]> {
  const doc = (await (await app.request('/openapi.json')).json()) as {
    paths: Record<string, Record<string, { security?: Record<string, string[]>[] }>>;
  };
  const scopes = new Map<string, string>();
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const scope = op.security?.[0]?.apiKey?.[0];
      if (scope) scopes.set(`${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`, scope);
    }
  }
  const lines: string[] = [];
  for (const r of app.routes) {
    if (r.method === 'ALL') continue;
    const key = `${r.method} ${r.path}`;
    if (isOpen(key) || lines.some((l) => l.startsWith(`${key} `))) continue;
    expect(scopes.get(key), `${key} has no scope in /openapi.json`).toBeDefined();
    lines.push(`${key} ${scopes.get(key)}`);
  }
  return lines.sort();
}
