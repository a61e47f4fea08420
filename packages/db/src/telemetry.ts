import { PrismaClient } from './generated/telemetry/client.js';
import { createPgAdapter } from './pg-adapter.js';

export * from './generated/telemetry/client.js';

export function createTelemetryClient(url: string): PrismaClient {
  return new PrismaClient({ adapter: createPgAdapter(url) });
}
