import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Session } from 'chdb';
import { afterAll, describe, expect, it } from 'vitest';
import { chByBytes, corpus, type BadMessage } from './support/bad-messages.js';
import { seedFrom } from './support/seed.js';

/**
 * The malformed-message oracle (tests/support/bad-messages.ts) decides from a value's
 * bytes alone whether ClickHouse's parse view sees "not JSON", "JSON but not an object"
 * or an object. Here that verdict is held against ClickHouse's own JSON reader
 * (isValidJSON, JSONType; embedded chDB) over the corpora of many seeds: a class the
 * oracle gets wrong would otherwise show up only as a rare failure of the pipeline test.
 */
const FIRST_SEED = seedFrom('FUZZ_SEED', 20_261_206);
const SEEDS = Number(process.env.ORACLE_SEEDS ?? 200);
const dir = mkdtempSync(join(tmpdir(), 'oracle-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Verdict = 'object' | 'not-object' | 'not-json';

function predicted(m: BadMessage): Verdict | 'either' | undefined {
  const p = chByBytes(m.value);
  if (!p) return 'object';
  if (p.kind !== 'error') return undefined; // skipped: never reaches the view
  if (p.error.source.includes('|(?:')) return 'either'; // near simdjson's depth limit
  return p.error.source.startsWith('^not JSON') ? 'not-json' : 'not-object';
}

describe('the malformed-message oracle', () => {
  it(`agrees with ClickHouse's JSON reader on every message of ${SEEDS} seeds from ${FIRST_SEED}`, () => {
    const opts = (seed: number) => ({
      seed,
      runs: 2,
      run: 'oracle',
      idBase: 100_000_000,
      fakeUserId: -1,
      nowMs: 1_796_000_000_000,
      probe: { id: 1, schema: { type: 'record', name: 'Probe', fields: [{ name: 'n', type: 'long' }] } },
      partitions: { users: 3, telemetry: 3 },
    });
    const cases: { m: BadMessage; seed: number; verdict: Verdict }[] = [];
    for (let seed = FIRST_SEED; seed < FIRST_SEED + SEEDS; seed++) {
      for (const topic of ['users', 'telemetry'] as const) {
        for (const m of corpus(topic, opts(seed))) {
          const v = predicted(m);
          // ~1 MB values only repeat a character; they add nothing here but time.
          if (v === undefined || v === 'either' || m.cls === 'huge') continue;
          cases.push({ m, seed, verdict: v });
        }
      }
    }
    const file = join(dir, 'values.tsv');
    writeFileSync(file, cases.map((c, i) => `${i}\t${c.m.value.toString('hex')}`).join('\n') + '\n');
    const session = new Session(join(dir, 'ch'));
    try {
      const actual = session
        .query(
          `SELECT multiIf(NOT isValidJSON(v), 'not-json', JSONType(v) != 'Object', 'not-object', 'object')
             FROM (SELECT i, unhex(h) AS v FROM file('${file}', 'TSV', 'i UInt32, h String')) ORDER BY i`,
          'TSV',
        )
        .toString()
        .trim()
        .split('\n');
      expect(actual).toHaveLength(cases.length);
      const wrong = cases.flatMap((c, i) =>
        actual[i] === c.verdict ? [] : [`seed ${c.seed} ${c.m.topic} ${c.m.cls} / ${c.m.variant}: oracle ${c.verdict}, ClickHouse ${actual[i]}: ${c.m.value.toString('utf8').slice(0, 120)}`],
      );
      expect(wrong.slice(0, 20), `${wrong.length} of ${cases.length} messages`).toEqual([]);
    } finally {
      session.close();
    }
  }, 120_000);
});
