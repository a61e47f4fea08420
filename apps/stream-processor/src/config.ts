import { z } from 'zod';
import { logLevel, parseEnv, port } from '@cdc/config';

const schema = z.object({
  HOST: z.string().default('127.0.0.1'),
  STREAM_PROCESSOR_PORT: port.default(3004),
  LOG_LEVEL: logLevel.default('info'),
});

export type Config = { host: string; port: number; logLevel: z.infer<typeof logLevel> };

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const e = parseEnv('stream-processor', schema, env);
  return { host: e.HOST, port: e.STREAM_PROCESSOR_PORT, logLevel: e.LOG_LEVEL };
}
