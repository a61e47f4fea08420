import { Hono } from 'hono';
import { listSubjects } from '@cdc/kafka';
import type { SubjectView } from '../contract.js';
import type { Deps } from '../deps.js';
import { ConsoleError } from '../errors.js';

/** The schema registry's subjects and versions (the Schemas page). */
export function schemaRoutes(deps: Deps): Hono {
  const app = new Hono();
  app.get('/schemas', async (c) => {
    const url = deps.config.schemaRegistryUrl;
    if (!url) throw new ConsoleError(404, 'no schema registry configured (SCHEMA_REGISTRY_URL is empty)');
    const subjects = await listSubjects(url);
    return c.json(
      subjects.map((s): SubjectView => ({ subject: s.subject, versions: s.versions.map(({ version, id, schemaType, schema }) => ({ version, id, schemaType, schema })) })),
    );
  });
  return app;
}
