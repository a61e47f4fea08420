import { randomBytes } from 'node:crypto';
import { appendFileSync, chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { parseEnv } from 'node:util';

/**
 * The product's passwords, generated on the first `npm run up` rather than shipped as
 * defaults (docs/security.md, "Secrets"): written once into the git-ignored `.env`,
 * readable by its owner only, where every component and script reads them. A run
 * adds only what is missing, so a password is never replaced under a running stack.
 */
export interface SecretsReport {
  file: string;
  created: boolean;
  /** The variables this run wrote. */
  generated: string[];
  /** The file was readable by others and was made 0600. */
  modeFixed: boolean;
  /** Variables still holding a password this repo once shipped as a default. */
  weak: string[];
}

const password = () => randomBytes(24).toString('base64url');

/** What the native stack needs, each with the default location it was always at. */
const SECRETS: Record<string, () => string> = {
  CRM_DATABASE_URL: () => `postgresql://postgres:${password()}@127.0.0.1:15432/crm_db`,
  TELEMETRY_DATABASE_URL: () => `postgresql://postgres:${password()}@127.0.0.1:15433/telemetry_db`,
  CLICKHOUSE_PASSWORD: password,
  CLICKHOUSE_ANALYST_PASSWORD: password,
  // Kafka's principals (scripts/stack/kafka-acl.ts): the admin, which scripts and
  // tests use, and one per component.
  KAFKA_PASSWORD: password,
  KAFKA_CONNECT_PASSWORD: password,
  KAFKA_CLICKHOUSE_PASSWORD: password,
  KAFKA_PROCESSOR_PASSWORD: password,
  KAFKA_CONSOLE_PASSWORD: password,
  KAFKA_ERASER_PASSWORD: password,
  // docker-compose only (the native stack reads neither): its PostgreSQL servers (one
  // password for both) and Grafana's admin.
  POSTGRES_PASSWORD: password,
  GRAFANA_ADMIN_PASSWORD: password,
};

/** Passwords that were defaults in earlier versions of .env.example. */
const KNOWN_DEFAULTS = [/^postgres(ql)?:\/\/[^:]*:postgres@/, /^pipeline-dev$/, /^analyst-dev$/, /^postgres$/];

const HEADER = `# Written by \`npm run up\` (scripts/stack/secrets.ts): this machine's passwords, generated
# at random. Git ignores this file; keep it readable by its owner only (0600). Every
# component and script reads it from the repository root. Other settings may be added
# below (see .env.example); a variable set in the environment wins over this file.
`;

const NATIVE = [
  'CRM_DATABASE_URL',
  'TELEMETRY_DATABASE_URL',
  'CLICKHOUSE_PASSWORD',
  'CLICKHOUSE_ANALYST_PASSWORD',
  'KAFKA_PASSWORD',
  'KAFKA_CONNECT_PASSWORD',
  'KAFKA_CLICKHOUSE_PASSWORD',
  'KAFKA_PROCESSOR_PASSWORD',
  'KAFKA_CONSOLE_PASSWORD',
  'KAFKA_ERASER_PASSWORD',
];

export function ensureSecrets(file: string, env: Record<string, string | undefined> = process.env): SecretsReport {
  // The environment sets every password the native stack needs (the tests' stack does):
  // nothing to generate, and no file to write.
  if (NATIVE.every((k) => env[k] !== undefined)) return { file, created: false, generated: [], modeFixed: false, weak: [] };
  const created = !existsSync(file);
  const present = created ? {} : parseEnv(readFileSync(file, 'utf8'));
  const missing = Object.keys(SECRETS).filter((k) => present[k] === undefined);
  const lines = missing.map((k) => `${k}=${SECRETS[k]!()}`).join('\n');
  if (created) writeFileSync(file, `${HEADER}\n${lines}\n`, { mode: 0o600 });
  else if (missing.length > 0) appendFileSync(file, `\n# added by npm run up\n${lines}\n`);
  let modeFixed = false;
  if ((statSync(file).mode & 0o077) !== 0) {
    chmodSync(file, 0o600);
    modeFixed = !created;
  }
  const weak = Object.keys(SECRETS).filter((k) => present[k] !== undefined && KNOWN_DEFAULTS.some((re) => re.test(present[k]!)));
  return { file, created, generated: missing, modeFixed, weak };
}

export function describeSecrets(r: SecretsReport): string[] {
  const out: string[] = [];
  if (r.created) out.push(`✔ generated passwords into ${r.file} (mode 0600): ${r.generated.join(', ')}`);
  else if (r.generated.length > 0) out.push(`✔ added generated ${r.generated.join(', ')} to ${r.file}`);
  if (r.modeFixed) out.push(`! ${r.file} was readable by other users; it is 0600 now`);
  for (const k of r.weak) out.push(`! ${k} in ${r.file} holds a well-known default password: delete the line and run npm run up to generate one`);
  return out;
}
