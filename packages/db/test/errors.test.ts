import { describe, expect, it } from 'vitest';
import { classifyDbError } from '../src/errors.js';

// Shapes as pg and Prisma's pg adapter produce them.
const pgError = (code: string, message: string) => Object.assign(new Error(message), { code });
const adapterError = (originalCode: string, message: string, kind = 'postgres') =>
  Object.assign(new Error(message), { code: 'P2010', meta: { driverAdapterError: { cause: { kind, originalCode, originalMessage: message } } } });

describe('classifyDbError', () => {
  it('calls a database that is gone for a moment unavailable (503 + Retry-After), not an error (500)', () => {
    const cases = [
      pgError('57P01', 'terminating connection due to administrator command'),
      pgError('3D000', 'database "crm_db" does not exist'),
      pgError('55000', 'database "crm_db" is not currently accepting connections'),
      adapterError('3D000', 'database "crm_db" does not exist'),
      adapterError('55000', 'database "crm_db" is not currently accepting connections'),
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:15432'), { code: 'ECONNREFUSED' }),
      Object.assign(new Error('Database `crm_db` does not exist'), { code: 'P1003' }),
    ];
    for (const err of cases) expect(classifyDbError(err)?.kind, err.message).toBe('unavailable');
  });

  it('leaves other errors of the broad 55000 class alone', () => {
    expect(classifyDbError(pgError('55000', 'currval of sequence "users_id_seq" is not yet defined in this session'))).toBeUndefined();
  });

  it('tells unique and check violations apart', () => {
    expect(classifyDbError(pgError('23505', 'duplicate key value violates unique constraint "users_email_key"'))?.kind).toBe('unique_violation');
    expect(classifyDbError(Object.assign(pgError('23514', 'violates check constraint'), { constraint: 'c' }))).toMatchObject({ kind: 'check_violation', constraint: 'c' });
  });
});
