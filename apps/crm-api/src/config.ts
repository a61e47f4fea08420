import { z } from 'zod';
import { logLevel, parseEnv, port } from '@cdc/config';

const schema = z.object({
  HOST: z.string().default('127.0.0.1'),
  CRM_API_PORT: port.default(3002),
  LOG_LEVEL: logLevel.default('info'),
});

export type Config = { host: string; port: number; logLevel: z.infer<typeof logLevel> };

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const e = parseEnv('crm-api', schema, env);
  return { host: e.HOST, port: e.CRM_API_PORT, logLevel: e.LOG_LEVEL };
}
