import { z } from 'zod';
import { consoleBaseUrl, endpointsSchema, logLevel, optionalRegistryUrl, parseEnv, type Endpoints } from '@cdc/config';

const schema = endpointsSchema.extend({
  HOST: z.string().min(1).default('127.0.0.1'),
  LOG_LEVEL: logLevel.default('info'),
  SCHEMA_REGISTRY_URL: optionalRegistryUrl,
  // Write actions (connector pause/resume/restart) need `Authorization: Bearer <token>`;
  // unset or empty, the console is read-only for everybody.
  CONSOLE_TOKEN: z
    .string()
    .optional()
    .transform((v) => (v ? v : undefined))
    .refine((v) => v === undefined || v.length >= 16, 'at least 16 characters (generate one: openssl rand -hex 24)'),
  // A replication slot retaining more WAL than this is shown as a warning.
  CONSOLE_SLOT_WARN_MB: z.coerce.number().min(0).default(1024),
  // Where the built front end is (npm run build:web -w apps/console).
  CONSOLE_WEB_DIR: z.string().min(1).optional(),
  // Where the console reaches the apps for their health (in docker-compose: by service
  // name); unset, each app's port on 127.0.0.1.
  CRM_API_URL: z.url().optional(),
  TELEMETRY_API_URL: z.url().optional(),
  STREAM_PROCESSOR_URL: z.url().optional(),
});

export interface Config {
  host: string;
  port: number;
  logLevel: z.infer<typeof logLevel>;
  endpoints: Endpoints;
  schemaRegistryUrl: string | undefined;
  token: string | undefined;
  slotWarnBytes: number;
  webDir: string;
  publicUrl: string;
  apps: { crmApi: string; telemetryApi: string; processor: string };
}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const e = parseEnv('console', schema, env);
  const endpoints = endpointsSchema.parse(env);
  return Object.freeze({
    host: e.HOST,
    port: e.CONSOLE_PORT,
    logLevel: e.LOG_LEVEL,
    endpoints,
    schemaRegistryUrl: e.SCHEMA_REGISTRY_URL,
    token: e.CONSOLE_TOKEN,
    slotWarnBytes: Math.round(e.CONSOLE_SLOT_WARN_MB * 1024 * 1024),
    webDir: e.CONSOLE_WEB_DIR ?? new URL('../dist/web', import.meta.url).pathname,
    publicUrl: consoleBaseUrl(e),
    apps: {
      crmApi: trim(e.CRM_API_URL ?? `http://127.0.0.1:${e.CRM_API_PORT}`),
      telemetryApi: trim(e.TELEMETRY_API_URL ?? `http://127.0.0.1:${e.TELEMETRY_API_PORT}`),
      processor: trim(e.STREAM_PROCESSOR_URL ?? `http://127.0.0.1:${e.STREAM_PROCESSOR_PORT}`),
    },
  });
}

const trim = (url: string) => url.replace(/\/$/, '');
