import { afterAll, describe, expect, it } from 'vitest';
import { buildApp, deleteByEmails, json, KEY, uniqueEmail } from './support.js';

/** Every write through the API leaves one audit entry, in its own transaction, naming fields but no values. */
const t = buildApp();
const emails: string[] = [];
afterAll(async () => {
  await deleteByEmails(t.db, emails);
  await t.db.close();
});

const entries = (requestId: string) =>
  t.db.pool.query<{ key_id: string; action: string; target: string; detail: Record<string, unknown> }>(
    'SELECT key_id, action, target, detail FROM auth.audit_log WHERE request_id = $1 ORDER BY id',
    [requestId],
  );

describe('audit log of writes', () => {
  it('records create, update and delete with the key and request, and no personal data', async () => {
    const email = uniqueEmail('audit');
    emails.push(email);
    const tag = email.slice(4, 30).replace(/[^A-Za-z0-9-]/g, '');
    const created = await t.app.request('/users', json('POST', { name: 'Audit Person', email, phone: '+1 555 0100' }, { 'x-request-id': `audit-c-${tag}` }));
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: number };
    expect((await t.app.request(`/users/${id}`, json('PATCH', { phone: '+1 555 0199', country: 'Chile' }, { 'x-request-id': `audit-u-${tag}` }))).status).toBe(200);
    expect((await t.app.request(`/users/${id}`, { method: 'DELETE', headers: { 'x-request-id': `audit-d-${tag}` } })).status).toBe(204);

    expect((await entries(`audit-c-${tag}`)).rows).toEqual([{ key_id: KEY.id, action: 'users.create', target: `users/${id}`, detail: {} }]);
    expect((await entries(`audit-u-${tag}`)).rows).toEqual([{ key_id: KEY.id, action: 'users.update', target: `users/${id}`, detail: { fields: ['country', 'phone'] } }]);
    expect((await entries(`audit-d-${tag}`)).rows).toEqual([{ key_id: KEY.id, action: 'users.delete', target: `users/${id}`, detail: {} }]);
    const all = await t.db.pool.query('SELECT * FROM auth.audit_log WHERE target = $1', [`users/${id}`]);
    expect(JSON.stringify(all.rows)).not.toMatch(/555|Audit Person|Chile|@example/);
  });

  it('records nothing for a read, a refused or a failed write', async () => {
    const email = uniqueEmail('audit-none');
    emails.push(email);
    const tag = email.slice(4, 30).replace(/[^A-Za-z0-9-]/g, '');
    await t.app.request('/users?limit=1', { headers: { 'x-request-id': `audit-r-${tag}` } });
    await t.app.request('/users', json('POST', { name: '', email }, { 'x-request-id': `audit-bad-${tag}` }));
    await t.app.request('/users/2147483647', { method: 'DELETE', headers: { 'x-request-id': `audit-404-${tag}` } });
    for (const id of [`audit-r-${tag}`, `audit-bad-${tag}`, `audit-404-${tag}`]) expect((await entries(id)).rows, id).toEqual([]);
  });

  it('cannot be changed or emptied, even by the table owner', async () => {
    for (const sql of ['UPDATE auth.audit_log SET action = action', 'DELETE FROM auth.audit_log', 'TRUNCATE auth.audit_log']) {
      await expect(t.db.pool.query(sql), sql).rejects.toThrow(/append-only/);
    }
  });
});
