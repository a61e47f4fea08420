import type { OpenAPIHono } from '@hono/zod-openapi';
import { TrieRouter } from 'hono/router/trie-router';

/** The security scheme every scoped route names in /openapi.json. */
export const SECURITY_SCHEME = 'apiKey';

/**
 * The scope each route needs, read from the routes' own OpenAPI `security`, so the
 * document a client reads and the check the server makes cannot disagree. Matched
 * with a Hono router, the same matching the app routes with, before the route runs:
 * a caller without the scope is refused before its body is read.
 */
export interface RouteScopes {
  /** undefined: no route needs a scope for this method and path (open, or no such route). */
  scopeOf(method: string, path: string): string | undefined;
}

type RouteDefinition = { type: string; route?: { method: string; path: string; security?: Record<string, string[]>[] } };

export function routeScopes(app: OpenAPIHono<any>): RouteScopes {
  let router: TrieRouter<string> | undefined;
  // Built at the first request: routes are registered after the middleware is.
  const build = () => {
    const r = new TrieRouter<string>();
    for (const d of app.openAPIRegistry.definitions as RouteDefinition[]) {
      if (d.type !== 'route' || !d.route) continue;
      const scope = d.route.security?.[0]?.[SECURITY_SCHEME]?.[0];
      if (scope) r.add(d.route.method.toUpperCase(), d.route.path.replace(/\{(\w+)\}/g, ':$1'), scope);
    }
    return r;
  };
  return {
    scopeOf(method, path) {
      router ??= build();
      const [matches] = router.match(method === 'HEAD' ? 'GET' : method, path);
      return matches[0]?.[0];
    },
  };
}

/** A route's `security` entry, to spread into createRoute: one scope under the API's scheme. */
export const requires = (scope: string) => ({ security: [{ [SECURITY_SCHEME]: [scope] }] });
