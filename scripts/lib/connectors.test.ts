import { describe, expect, it } from 'vitest';
import { loadConnectorDefinitions } from './connectors.js';

/** What the pipeline relies on from connectors/*.json, checked without a server. */
describe('connectors/*.json', () => {
  const defs = loadConnectorDefinitions();

  it('has one Debezium PostgreSQL connector per database', () => {
    expect(defs.map((d) => [d.name, d.config['topic.prefix'], d.config['table.include.list']])).toEqual([
      ['crm-connector', 'crm', 'public.users,debezium.heartbeat'],
      ['telemetry-connector', 'telemetry', 'public.telemetry_events,debezium.heartbeat'],
    ]);
    for (const d of defs) {
      expect(d.config['connector.class'], d.name).toBe('io.debezium.connector.postgresql.PostgresConnector');
      expect(d.config['plugin.name'], d.name).toBe('pgoutput');
      expect(d.config['snapshot.mode'], d.name).toBe('initial');
    }
  });

  it('gives each connector its own replication slot and publication', () => {
    const slots = defs.map((d) => d.config['slot.name']);
    const publications = defs.map((d) => d.config['publication.name']);
    expect(new Set(slots).size).toBe(defs.length);
    expect(new Set(publications).size).toBe(defs.length);
  });

  it('sends heartbeats that write to a captured table, so an idle table never pins WAL', () => {
    for (const d of defs) {
      expect(Number(d.config['heartbeat.interval.ms']), d.name).toBeGreaterThan(0);
      expect(d.config['heartbeat.action.query'], d.name).toMatch(/debezium\.heartbeat/);
      expect(d.config['table.include.list'], d.name).toContain('debezium.heartbeat');
    }
  });

  it('keeps addresses and passwords out of the files (Connect resolves ${env:…})', () => {
    for (const d of defs) {
      for (const key of ['database.hostname', 'database.port', 'database.user', 'database.password', 'database.dbname']) {
        expect(d.config[key], `${d.name} ${key}`).toMatch(/^\$\{env:[A-Z_]+\}$/);
      }
    }
  });

  it('emits JSON without embedded schemas, keyed by the primary key, with tombstones chosen per topic', () => {
    for (const d of defs) {
      expect(d.config['value.converter.schemas.enable'], d.name).toBe('false');
      expect(d.config['key.converter.schemas.enable'], d.name).toBe('false');
      expect(d.config['message.key.columns'], d.name).toBeUndefined();
    }
    // users: compacted topic, tombstones remove deleted users; telemetry: retention, no tombstones.
    expect(defs.map((d) => d.config['tombstones.on.delete'])).toEqual(['true', 'false']);
  });
});
