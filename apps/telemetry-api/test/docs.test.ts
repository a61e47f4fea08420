import { createTelemetryDb } from '@cdc/db/telemetry';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { expectOfflineDocs } from '../../../packages/http/test/offline-docs.js';
import { createApp } from '../src/app.js';

// /docs and /openapi.json never touch the database: a pool that would fail to connect is enough.
const db = createTelemetryDb('postgresql://telemetry:telemetry@127.0.0.1:1/none');
const { app } = createApp({ db, log: pino({ level: 'silent' }) });
afterAll(() => db.close());

describe('telemetry-api /docs', () => {
  it('renders offline: only same-origin assets, each 200 with its content type', async () => {
    const assets = await expectOfflineDocs((p, i) => app.request(p, i));
    expect(assets).toContain('/docs/swagger-ui-bundle.js');
  });

  it('shows the telemetry API document', async () => {
    const doc = (await (await app.request('/openapi.json')).json()) as { info: { title: string }; paths: Record<string, unknown> };
    expect(doc.info.title).toBe('Telemetry API');
    expect(Object.keys(doc.paths)).toContain('/telemetry-events');
  });
});
