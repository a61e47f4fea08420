import { createCrmDb } from '@cdc/db/crm';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { expectEveryRouteScoped } from '../../../packages/http/test/every-route-scoped.js';
import { expectOfflineDocs } from '../../../packages/http/test/offline-docs.js';
import { createApp } from '../src/app.js';
import { MAX_BODY_BYTES } from '../src/config.js';
import { DEFAULT_API_AUTH } from '../../../tests/support/api-keys.js';

// /docs and /openapi.json never touch the database: a pool that would fail to connect is enough.
const db = createCrmDb('postgresql://crm:crm@127.0.0.1:1/none');
const { app } = createApp({ db, log: pino({ level: 'silent' }), config: { maxBodyBytes: MAX_BODY_BYTES, auth: { ...DEFAULT_API_AUTH, opsEndpoints: 'key' } } });
afterAll(() => db.close());

describe('crm-api /docs', () => {
  it('renders offline: only same-origin assets, each 200 with its content type', async () => {
    const assets = await expectOfflineDocs((p, i) => app.request(p, i));
    expect(assets).toContain('/docs/swagger-ui-bundle.js');
  });

  it('shows the CRM API document', async () => {
    const doc = (await (await app.request('/openapi.json')).json()) as { info: { title: string }; paths: Record<string, unknown> };
    expect(doc.info.title).toBe('CRM API');
    expect(Object.keys(doc.paths)).toContain('/users');
  });

  it('names the scope of every route that is not open', async () => {
    expect(await expectEveryRouteScoped(app)).toEqual([
      'DELETE /users/:id users:write',
      'GET /metrics ops:read',
      'GET /ready ops:read',
      'GET /users users:read',
      'GET /users/:id users:read',
      'PATCH /users/:id users:write',
      'POST /users users:write',
      'POST /users/:id/erase users:erase',
    ]);
  });
});
