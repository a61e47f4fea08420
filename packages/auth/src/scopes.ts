import { z } from 'zod';

/**
 * What a key may do. One scope per kind of access, so a key can be handed to a
 * component with no more than it needs: the telemetry devices get telemetry:write
 * only, a dashboard analytics:read only.
 */
export const SCOPES = {
  'users:read': 'read users (GET /users, GET /users/{id})',
  'users:write': 'create, change and delete users',
  'users:erase': "erase a user's personal data everywhere (POST /users/{id}/erase)",
  'telemetry:read': 'read stored telemetry events (GET /telemetry-events/{event_uuid})',
  'telemetry:write': 'send telemetry events',
  'analytics:read': "run read-only SQL over the analytics (the processor's /query)",
  'ops:read': 'read /ready and /metrics when they are not open (API_OPS_ENDPOINTS=key)',
} as const;

export type Scope = keyof typeof SCOPES;

export const ALL_SCOPES = Object.keys(SCOPES) as Scope[];

export const scopeSchema = z.enum(ALL_SCOPES as [Scope, ...Scope[]], {
  error: (issue) => `unknown scope ${JSON.stringify(issue.input)} (known: ${ALL_SCOPES.join(', ')})`,
});

/** "users:read,telemetry:write" → the scopes, every unknown one named in the error. */
export const scopeList = z
  .string()
  .transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean))
  .pipe(z.array(scopeSchema).min(1, 'at least one scope'))
  .transform((list) => [...new Set(list)].sort() as Scope[]);
