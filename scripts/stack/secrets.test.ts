import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { kafkaPassword } from '@cdc/config';
import { SECRETS_ENV } from '../../tests/support/secrets-env.js';
import { ensureSecrets } from './secrets.js';

const dirs: string[] = [];
const fresh = () => {
  const d = mkdtempSync(join(tmpdir(), 'secrets-'));
  dirs.push(d);
  return join(d, '.env');
};
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
const read = (f: string) => parseEnv(readFileSync(f, 'utf8'));
const mode = (f: string) => statSync(f).mode & 0o777;

describe('generated secrets', () => {
  it('writes strong random passwords once, readable by the owner only', () => {
    const file = fresh();
    const first = ensureSecrets(file, {});
    expect(first).toMatchObject({ created: true, modeFixed: false, weak: [] });
    expect(first.generated.sort()).toEqual([
      'CLICKHOUSE_ANALYST_PASSWORD',
      'CLICKHOUSE_PASSWORD',
      'CRM_DATABASE_URL',
      'GRAFANA_ADMIN_PASSWORD',
      'KAFKA_CLICKHOUSE_PASSWORD',
      'KAFKA_CONNECT_PASSWORD',
      'KAFKA_CONSOLE_PASSWORD',
      'KAFKA_ERASER_PASSWORD',
      'KAFKA_PASSWORD',
      'KAFKA_PROCESSOR_PASSWORD',
      'POSTGRES_PASSWORD',
      'TELEMETRY_DATABASE_URL',
    ]);
    expect(mode(file)).toBe(0o600);
    const env = read(file);
    const passwords = [
      new URL(env.CRM_DATABASE_URL!).password,
      new URL(env.TELEMETRY_DATABASE_URL!).password,
      env.CLICKHOUSE_PASSWORD!,
      env.CLICKHOUSE_ANALYST_PASSWORD!,
      env.POSTGRES_PASSWORD!,
      env.GRAFANA_ADMIN_PASSWORD!,
      env.KAFKA_PASSWORD!,
      env.KAFKA_CONNECT_PASSWORD!,
      env.KAFKA_CLICKHOUSE_PASSWORD!,
      env.KAFKA_PROCESSOR_PASSWORD!,
      env.KAFKA_CONSOLE_PASSWORD!,
      env.KAFKA_ERASER_PASSWORD!,
    ];
    for (const p of passwords) expect(p).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(new Set(passwords).size).toBe(12);
    // Kafka's passwords pass the stack's own check (JAAS and command-line quoting).
    for (const k of ['KAFKA_PASSWORD', 'KAFKA_CONNECT_PASSWORD', 'KAFKA_CLICKHOUSE_PASSWORD']) expect(kafkaPassword.parse(env[k])).toBe(env[k]);
    expect(new URL(env.CRM_DATABASE_URL!).host).toBe('127.0.0.1:15432');

    const again = ensureSecrets(file, {});
    expect(again).toMatchObject({ created: false, generated: [] });
    expect(read(file)).toEqual(env);
    // Another machine's file is another draw.
    const other = fresh();
    ensureSecrets(other, {});
    expect(read(other).CLICKHOUSE_PASSWORD).not.toBe(env.CLICKHOUSE_PASSWORD);
  });

  it('adds only what an existing .env lacks, keeps the rest, tightens its mode and names known defaults', () => {
    const file = fresh();
    writeFileSync(file, 'LOG_LEVEL=debug\nCLICKHOUSE_PASSWORD=pipeline-dev\nCRM_DATABASE_URL=postgresql://postgres:postgres@127.0.0.1:15432/crm_db\n');
    chmodSync(file, 0o644);
    const r = ensureSecrets(file, {});
    expect(r.generated.filter((k) => !k.startsWith('KAFKA_')).sort()).toEqual([
      'CLICKHOUSE_ANALYST_PASSWORD',
      'GRAFANA_ADMIN_PASSWORD',
      'POSTGRES_PASSWORD',
      'TELEMETRY_DATABASE_URL',
    ]);
    expect(r.modeFixed).toBe(true);
    expect(mode(file)).toBe(0o600);
    expect(r.weak.sort()).toEqual(['CLICKHOUSE_PASSWORD', 'CRM_DATABASE_URL']);
    const env = read(file);
    expect(env.LOG_LEVEL).toBe('debug');
    expect(env.CLICKHOUSE_PASSWORD).toBe('pipeline-dev');
  });

  it('writes nothing when the environment sets every password (the tests’ stack)', () => {
    const file = fresh();
    const r = ensureSecrets(file, { ...SECRETS_ENV });
    expect(r).toMatchObject({ created: false, generated: [] });
    expect(() => statSync(file)).toThrow();
  });
});
