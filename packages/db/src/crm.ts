import { PrismaClient } from './generated/crm/client.js';
import { createPgAdapter } from './pg-adapter.js';

export * from './generated/crm/client.js';

export function createCrmClient(url: string): PrismaClient {
  return new PrismaClient({ adapter: createPgAdapter(url) });
}
