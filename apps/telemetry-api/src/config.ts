import { z } from 'zod';
import { logLevel, parseEnv, port } from '@cdc/config';

const schema = z.object({
  HOST: z.string().default('127.0.0.1'),
  TELEMETRY_API_PORT: port.default(3003),
  LOG_LEVEL: logLevel.default('info'),
});

export type Config = { host: string; port: number; logLevel: z.infer<typeof logLevel> };

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const e = parseEnv('telemetry-api', schema, env);
  return { host: e.HOST, port: e.TELEMETRY_API_PORT, logLevel: e.LOG_LEVEL };
}
