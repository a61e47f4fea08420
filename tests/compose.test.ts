import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/**
 * docker-compose.yaml cannot run here (no Docker engine), but Debian's docker-compose
 * can still validate it, and the topology can be checked against the native stack's.
 */
describe('docker-compose.yaml', () => {
  it('validates with docker-compose config -q', () => {
    // Throws (and fails the test) with docker-compose's message on any error.
    execFileSync('docker-compose', ['-f', 'docker-compose.yaml', 'config', '-q'], { stdio: 'pipe' });
  });

  it('has the same services as the native stack, each with a healthcheck', () => {
    const config = execFileSync('docker-compose', ['-f', 'docker-compose.yaml', 'config'], { encoding: 'utf8' });
    for (const service of [
      'postgres-crm', 'postgres-telemetry', 'kafka', 'connect', 'schema-registry',
      'kafdrop', 'clickhouse', 'crm-api', 'telemetry-api', 'stream-processor',
    ]) {
      expect(config, `service ${service}`).toMatch(new RegExp(`^  ${service}:$`, 'm'));
    }
    const raw = readFileSync('docker-compose.yaml', 'utf8');
    expect(raw).toMatch(/wal_level=logical/);
    expect(raw).toMatch(/9100:9000/);
  });
});
