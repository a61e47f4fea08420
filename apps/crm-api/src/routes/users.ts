import { createRoute, z } from '@hono/zod-openapi';
import { ProblemType, requires, RETRY_AFTER_SECONDS, writeBy, type ApiApp } from '@cdc/http';
import { ErasureIncomplete, UserNotFound, type ErasedBy, type ErasureReport as Report } from '@cdc/erasure';
import { IncomingUser, LIMITS, User, UserPatch } from '@cdc/schemas';
import { decodeCursor, encodeCursor } from '../cursor.js';
import { problemResponse, problems } from '../problems.js';
import type { UsersRepository } from '../users-repository.js';

export const PAGE_LIMIT = { min: 1, max: 500, default: 50 } as const;


// Path and query values arrive as strings; only plain decimal digits are accepted
// (Number() alone would also take "0x10", "1e3" or " 7").
const decimal = (what: string) => z.string().regex(/^\d{1,10}$/, `expected ${what} as decimal digits`).transform(Number);

const IdParams = z.object({
  id: decimal('a user id')
    .pipe(z.int().min(1).max(LIMITS.int32Max))
    .openapi({ param: { name: 'id', in: 'path' }, type: 'integer', minimum: 1, maximum: LIMITS.int32Max, example: 42 }),
});

const ListQuery = z.object({
  limit: decimal('limit')
    .pipe(z.int().min(PAGE_LIMIT.min).max(PAGE_LIMIT.max))
    .default(PAGE_LIMIT.default)
    .openapi({
      param: { name: 'limit', in: 'query' },
      type: 'integer',
      minimum: PAGE_LIMIT.min,
      maximum: PAGE_LIMIT.max,
      default: PAGE_LIMIT.default,
    }),
  cursor: z
    .string()
    .transform((s, ctx) => {
      const afterId = decodeCursor(s);
      if (afterId === undefined) {
        ctx.addIssue({ code: 'custom', message: 'not a cursor issued by this API (use next_cursor as is)' });
        return z.NEVER;
      }
      return afterId;
    })
    .optional()
    .openapi({
      param: { name: 'cursor', in: 'query' },
      type: 'string',
      description: 'next_cursor of the previous page; opaque. Omit for the first page.',
    }),
});

const UserPage = z
  .object({
    items: z.array(User),
    next_cursor: z.string().nullable().openapi({ description: 'Pass as `cursor` for the next page; null on the last page' }),
  })
  .openapi('UserPage');

const jsonBody = <S extends z.ZodType>(schema: S, description: string) => ({
  required: true,
  description,
  content: { 'application/json': { schema } },
});

const userResponse = (description: string) => ({ description, content: { 'application/json': { schema: User } } });

const createUser = createRoute({
  method: 'post',
  path: '/users',
  tags: ['users'],
  summary: 'Register a user',
  ...requires('users:write'),
  description: 'id, user_uuid and registered_at are set by the database; sending them is an error (unknown field).',
  request: { body: jsonBody(IncomingUser, 'The new user. Unknown fields are rejected.') },
  responses: {
    201: {
      ...userResponse('Created'),
      headers: z.object({ Location: z.string().openapi({ example: '/users/42' }) }),
    },
    ...problems(400, 401, 403, 409, 413, 415, 422, 429, 500, 503),
  },
});

const getUser = createRoute({
  method: 'get',
  path: '/users/{id}',
  tags: ['users'],
  summary: 'Read one user',
  ...requires('users:read'),
  request: { params: IdParams },
  responses: { 200: userResponse('The user'), ...problems(401, 403, 404, 422, 429, 500, 503) },
});

const listUsers = createRoute({
  method: 'get',
  path: '/users',
  tags: ['users'],
  summary: 'List users in id order, one page at a time',
  ...requires('users:read'),
  description:
    'Keyset pagination: follow next_cursor until it is null. Rows inserted or deleted meanwhile never ' +
    'shift the pages, so no row is skipped or repeated.',
  request: { query: ListQuery },
  responses: {
    200: { description: 'One page', content: { 'application/json': { schema: UserPage } } },
    ...problems(401, 403, 422, 429, 500, 503),
  },
});

const patchUser = createRoute({
  method: 'patch',
  path: '/users/{id}',
  tags: ['users'],
  summary: 'Change some fields of a user',
  ...requires('users:write'),
  description: 'Only the fields sent change. id, user_uuid and registered_at cannot be set (unknown fields).',
  request: { params: IdParams, body: jsonBody(UserPatch, 'At least one field of IncomingUser.') },
  responses: { 200: userResponse('The user after the change'), ...problems(400, 401, 403, 404, 409, 413, 415, 422, 429, 500, 503) },
});

const deleteUser = createRoute({
  method: 'delete',
  path: '/users/{id}',
  tags: ['users'],
  summary: 'Delete a user',
  ...requires('users:write'),
  request: { params: IdParams },
  responses: { 204: { description: 'Deleted' }, ...problems(401, 403, 404, 422, 429, 500, 503) },
});

const ErasureReport = z
  .object({
    user_id: z.int(),
    postgres: z.object({ table: z.string(), removed: z.int() }),
    clickhouse: z.array(z.object({ table: z.string(), removed: z.int() })).openapi({ description: 'Rows removed per table' }),
    residue: z
      .array(z.object({ table: z.string(), column: z.string(), rows: z.int() }))
      .openapi({ description: 'Copies still readable afterwards: always empty in a 200 answer' }),
    kafka: z
      .array(z.object({ topic: z.string(), removed: z.int() }))
      .openapi({ description: "Records of the user's row that compaction removed, per topic" }),
    backups: z.string(),
    finished_at: z.string(),
  })
  .openapi('ErasureReport');

const eraseUser = createRoute({
  method: 'post',
  path: '/users/{id}/erase',
  tags: ['users'],
  summary: "Erase a user's personal data everywhere",
  ...requires('users:erase'),
  description:
    'Deletes the user from crm_db and, once the delete has reached ClickHouse, every copy of their row there ' +
    '(all versions of default.users, the processor\'s lookup, raw dead messages), then has Kafka compact away every ' +
    'record of their row in crm.public.users and its dead-letter topic (about 20 s), and checks that no ClickHouse table ' +
    'and no Kafka record still holds their row or their e-mail. Answers when no copy is readable; a second call answers 404. ' +
    'Files on disk and backups: docs/security.md, "Erasure".',
  request: { params: IdParams },
  responses: {
    200: { description: 'What was removed where', content: { 'application/json': { schema: ErasureReport } } },
    ...problems(401, 403, 404, 422, 429, 500, 503),
  },
});

/** Runs an erasure; the app gets it from its dependencies (PostgreSQL, ClickHouse, Kafka). */
export type Eraser = (id: number, by: ErasedBy) => Promise<Report>;

const notFound = (id: number) => ({
  type: ProblemType.notFound,
  title: 'Not found',
  status: 404 as const,
  detail: `no user with id ${id}`,
});

/** The /users resource. Database failures propagate to the app's error mapping. */
export function registerUserRoutes(app: ApiApp, users: UsersRepository, erase: Eraser): void {
  app.openapi(createUser, async (c) => {
    const user = await users.create(c.req.valid('json'), writeBy(c));
    c.get('log').info({ user_id: user.id }, 'user created');
    c.header('Location', `/users/${user.id}`);
    return c.json(user, 201);
  });

  app.openapi(getUser, async (c) => {
    const { id } = c.req.valid('param');
    const user = await users.get(id);
    if (!user) return problemResponse(c, notFound(id));
    return c.json(user, 200);
  });

  app.openapi(listUsers, async (c) => {
    const { limit, cursor } = c.req.valid('query');
    const page = await users.list({ limit, afterId: cursor });
    return c.json({ items: page.items, next_cursor: page.lastId === null ? null : encodeCursor(page.lastId) }, 200);
  });

  app.openapi(patchUser, async (c) => {
    const { id } = c.req.valid('param');
    const patch = c.req.valid('json');
    const user = await users.update(id, patch, writeBy(c));
    if (!user) return problemResponse(c, notFound(id));
    c.get('log').info({ user_id: id, fields: Object.keys(patch) }, 'user updated');
    return c.json(user, 200);
  });

  app.openapi(deleteUser, async (c) => {
    const { id } = c.req.valid('param');
    if (!(await users.delete(id, writeBy(c)))) return problemResponse(c, notFound(id));
    c.get('log').info({ user_id: id }, 'user deleted');
    return c.body(null, 204);
  });

  app.openapi(eraseUser, async (c) => {
    const { id } = c.req.valid('param');
    try {
      const report = await erase(id, writeBy(c));
      c.get('log').info({ user_id: id, clickhouse: report.clickhouse, kafka: report.kafka }, 'user erased');
      return c.json(report, 200);
    } catch (err) {
      if (err instanceof UserNotFound) return problemResponse(c, notFound(id));
      if (err instanceof ErasureIncomplete) {
        c.get('log').error({ user_id: id, report: err.report }, err.message);
        c.header('Retry-After', String(RETRY_AFTER_SECONDS));
        return problemResponse(c, { type: ProblemType.unavailable, title: 'Erasure incomplete', status: 503 as const, detail: err.message });
      }
      throw err;
    }
  });
}
