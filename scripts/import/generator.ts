import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { TELEMETRY_PAYLOAD_FIELDS, USER_INPUT_FIELDS } from '@cdc/schemas';

/**
 * Deterministic CSV generator for crm.csv (users) and signal_samples.csv (telemetry).
 * Same options → byte-identical output: every value comes from one mulberry32 stream
 * seeded with --seed, consumed in a fixed order; no clock, no locale, no Math.random.
 * Rows are produced one at a time (a generator) and written in ~64 KiB chunks with
 * backpressure, so memory does not grow with --rows.
 *
 * With badEvery = K, every K-th data row is corrupted, cycling through the kinds in
 * USER_BAD_KINDS / TELEMETRY_BAD_KINDS; each yields exactly one rejected record (or,
 * for 'duplicate', one duplicate), which the tests check line by line.
 */

/** mulberry32: a tiny, fast 32-bit PRNG with a good enough distribution for test data. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type GenKind = 'users' | 'telemetry';

export interface GenerateOptions {
  kind: GenKind;
  rows: number;
  seed: number;
  /** Corrupt every K-th data row (0/undefined: none). */
  badEvery?: number;
  /** users: put every e-mail in this domain (tests use a random one per run). */
  domain?: string;
  /** telemetry: user_id = userIdBase + [0, users). */
  userIdBase?: number;
  users?: number;
  /** telemetry: add the event_uuid column (≈10 % of its values left empty). */
  withUuid?: boolean;
}

export type RowStatus = 'header' | 'ok' | 'bad' | 'duplicate';

export interface GeneratedRecord {
  /** The CSV text of the record, line ending included. */
  text: string;
  status: RowStatus;
  /** Which corruption, for 'bad' and 'duplicate'. */
  corruption?: string;
  /** Physical lines the record spans (a quoted address may hold a line break). */
  lines: number;
}

export const USER_COLUMNS: string[] = [...USER_INPUT_FIELDS, 'registered_at'];
export const TELEMETRY_COLUMNS: string[] = [...TELEMETRY_PAYLOAD_FIELDS];

export const USER_BAD_KINDS = [
  'bad-email',
  'age-151',
  'age-not-a-number',
  'empty-name',
  'bad-date',
  'missing-field',
  'stray-quote',
  'unclosed-quote',
  'year-zero', // valid for the schema, refused by PostgreSQL: exercises the bisecting fallback
  'duplicate', // the previous good row's e-mail, domain upper-cased
] as const;
export const TELEMETRY_BAD_KINDS = [
  'frequency-not-a-number',
  'amplitude-nan',
  'negative-user-id',
  'empty-muscle-group',
  'bad-date',
  'timestamp-without-offset',
  'extra-field',
  'stray-quote',
  'unclosed-quote',
  'year-zero',
  'duplicate', // the previous good row again
  'bad-uuid', // only with withUuid
] as const;

const FIRST = [
  'Olena', 'Łukasz', 'Zoë', 'José', 'Søren', 'Chloé', 'Jürgen', 'Ngozi', 'Mateus', 'Ayşe', 'Björk', 'Dmytro',
  'Siobhán', 'Yuki', 'Priya', 'Oğuz', 'Małgorzata', 'Renée', 'Žofia', 'Ingrid', 'Amélie', 'Nikolaos', 'Fatma',
  'Tomás', 'Ana', 'Mikhail', 'Aiyana', 'Kwame', 'Léa', 'Hiroshi', 'Øystein', 'Ewa', 'Noémi', 'Raúl', 'Şebnem',
  'Thandiwe', 'Wei', 'Astrid', 'Iñaki', 'Mariana',
];
const LAST = [
  'Kovalenko', 'Wiśniewski', 'García', 'Møller', 'Müller', 'Okafor', 'Silva', 'Yılmaz', 'Guðmundsdóttir',
  'Shevchenko', "O'Brien", 'Tanaka', 'Sharma', 'Öztürk', 'Nowak', 'Dubois', 'Novák', 'Lindqvist', 'Laurent',
  'Papadopoulos', 'Demir', 'Fernández', 'Ivanova', 'Eze', 'Moreau', 'Nakamura', 'Haugen', 'Kowalczyk',
  'Horváth', 'Martín', 'Zhang', 'Andersson', 'Ndlovu', 'de la Cruz', 'Rossi',
];
const DOMAINS = ['example.com', 'mail.example.org', 'example.net', 'klinik.example.de', 'example.co.uk'];
const TAGS = ['emg', 'crm', 'newsletter', 'clinic', '2024'];
const GENDERS = ['female', 'male', 'non-binary', 'female', 'male', '', 'prefer not to say'];
const COUNTRIES = [
  'Ukraine', 'Poland', 'Germany', 'Spain', 'Denmark', 'Nigeria', 'Brazil', 'Türkiye', 'Iceland', 'Japan', 'India',
  'France', 'Czechia', 'Sweden', "Côte d'Ivoire", 'São Tomé and Príncipe', 'Curaçao', 'Åland Islands', 'Greece',
  'South Africa', 'China', 'Norway', 'United Kingdom', '',
];
const STREETS = [
  'Khreshchatyk', 'ul. Marszałkowska', 'Calle de Alcalá', 'Nørrebrogade', 'Königsallee', 'Allen Avenue',
  'Rua Augusta', 'İstiklal Caddesi', 'Laugavegur', 'Rue de Rivoli', 'Václavské náměstí', 'Drottninggatan',
  'Ermou', 'Long Street', 'Karl Johans gate', 'Baker Street',
];
const CITIES = [
  'Kyiv', 'Warszawa', 'Madrid', 'København', 'Düsseldorf', 'Lagos', 'Lisboa', 'İstanbul', 'Reykjavík', 'Paris',
  'Praha', 'Stockholm', 'Αθήνα', 'Cape Town', 'Oslo', 'London', '東京',
];
const PHONE_CC = ['380', '48', '49', '34', '45', '234', '55', '90', '354', '33', '420', '46', '30', '27', '47', '44', '81'];
const PROSTHESES = [
  'myoelectric_hand', 'bionic_arm', 'transradial_socket', 'transhumeral_arm', 'partial_hand', 'wrist_rotator',
  'powered_elbow', 'multi_articulating_hand',
];
const MUSCLES = [
  'forearm_flexors', 'forearm_extensors', 'biceps_brachii', 'triceps_brachii', 'deltoid', 'brachioradialis',
  'pectoralis_major', 'latissimus_dorsi', 'thenar', 'hypothenar',
];
const FREQUENCIES = [250, 500, 1000, 1000, 2000, 4000];
const OFFSETS = ['Z', 'Z', 'Z', '+02:00', '+01:00', '-05:00', '+05:30', '+09:00'];

/** RFC 4180 quoting: only when needed. */
export function csvCell(v: string): string {
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** ISO 8601 from epoch microseconds with a given offset ("Z" or "±HH:MM"), 6 fractional digits. */
export function isoMicros(micros: number, offset: string): string {
  const offMin = offset === 'Z' ? 0 : (offset[0] === '-' ? -1 : 1) * (Number(offset.slice(1, 3)) * 60 + Number(offset.slice(4, 6)));
  const ms = Math.floor(micros / 1000);
  const d = new Date(ms + offMin * 60_000);
  const frac = pad(((micros % 1_000_000) + 1_000_000) % 1_000_000, 6);
  return (
    `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${frac}${offset}`
  );
}

const fold = (s: string) =>
  s
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[\s']+/g, '');

/** The records of the file, header first, one at a time. */
export function* generateRecords(o: GenerateOptions): Generator<GeneratedRecord> {
  const rnd = mulberry32(o.seed);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)]!;
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  const K = o.badEvery && o.badEvery > 0 ? Math.floor(o.badEvery) : 0;

  if (o.kind === 'users') {
    yield { text: `${USER_COLUMNS.join(',')}\n`, status: 'header', lines: 1 };
    const from = Date.UTC(2015, 0, 1) * 1000;
    const span = (Date.UTC(2026, 10, 1) * 1000 - from) / 1_000_000; // seconds
    let lastGoodEmail: string | null = null;
    for (let i = 0; i < o.rows; i++) {
      const first = pick(FIRST);
      const last = pick(LAST);
      let local = `${fold(first)}.${fold(last)}${i + 1}`;
      if (rnd() < 0.15) local += `+${pick(TAGS)}`;
      if (rnd() < 0.1) local = local[0]!.toUpperCase() + local.slice(1); // the import lower-cases
      const domain = o.domain ?? pick(DOMAINS);
      const f: string[] = [
        `${first} ${last}`,
        `${local}@${domain}`,
        rnd() < 0.05 ? '' : String(int(16, 90)),
        pick(GENDERS),
        pick(COUNTRIES),
        '',
        rnd() < 0.1 ? '' : `+${pick(PHONE_CC)} ${int(10, 99)} ${int(100, 999)} ${int(1000, 9999)}`,
        rnd() < 0.1 ? '' : isoMicros(from + Math.floor(rnd() * span) * 1_000_000 + int(0, 999_999), pick(OFFSETS)),
      ];
      const r = rnd();
      const street = `${pick(STREETS)} ${int(1, 240)}`;
      const city = pick(CITIES);
      f[5] = r < 0.01 ? `${street}\n${city}` : r < 0.03 ? `${street}, Apt. "${'ABCDEF'[int(0, 5)]}", ${city}` : r < 0.08 ? '' : `${street}, ${city}`;

      const bad = K > 0 && (i + 1) % K === 0 ? USER_BAD_KINDS[((i + 1) / K - 1) % USER_BAD_KINDS.length]! : null;
      let raw: string[] | null = null; // cells written as is (no quoting): for the structural corruptions
      switch (bad) {
        case 'bad-email': f[1] = `${local}.${domain}`; break;
        case 'age-151': f[2] = '151'; break;
        case 'age-not-a-number': f[2] = '12abc'; break;
        case 'empty-name': f[0] = ''; break;
        case 'bad-date': f[7] = '2024-13-45T25:61:00Z'; break;
        case 'missing-field': f.pop(); f[5] = f[5]!.replace(/\n/g, ' '); break; // a multi-line record must be well-formed (csv-guard.ts)
        case 'stray-quote': raw = f.map(csvCellOneLine); raw[0] = `${first.slice(0, 2)}"${first.slice(2)}`; break;
        case 'unclosed-quote': raw = f.map(csvCellOneLine); raw[5] = `"${street}; ${city}`; break;
        case 'year-zero': f[7] = '0000-01-01T00:00:00Z'; break;
        case 'duplicate': if (lastGoodEmail) f[1] = lastGoodEmail.replace(/@.*/, (d) => d.toUpperCase()); break;
      }
      const status: RowStatus = bad === null ? 'ok' : bad === 'duplicate' ? (lastGoodEmail ? 'duplicate' : 'ok') : 'bad';
      if (status === 'ok') lastGoodEmail = f[1]!;
      const text = `${(raw ?? f.map(csvCell)).join(',')}\n`;
      yield { text, status, ...(bad ? { corruption: bad } : {}), lines: raw ? 1 : countLines(text) };
    }
    return;
  }

  const columns = o.withUuid ? ['event_uuid', ...TELEMETRY_COLUMNS] : TELEMETRY_COLUMNS;
  yield { text: `${columns.join(',')}\n`, status: 'header', lines: 1 };
  const base = o.userIdBase ?? 1;
  const users = o.users ?? 10_000;
  let t = Date.UTC(2026, 0, 1) * 1000 + int(0, 86_400) * 1_000_000; // epoch µs, strictly increasing
  const kinds = TELEMETRY_BAD_KINDS.filter((k) => o.withUuid || k !== 'bad-uuid');
  let lastGood: string[] | null = null;
  for (let i = 0; i < o.rows; i++) {
    t += int(1, 20_000); // 1 µs – 20 ms apart: no two rows share content
    const amplitude = (rnd() * 2 - 1) * pick([0.05, 0.5, 1, 2.5]);
    const f: string[] = [
      String(base + Math.floor(rnd() * users)),
      pick(PROSTHESES),
      pick(MUSCLES),
      String(pick(FREQUENCIES)),
      String(int(0, 5000)),
      amplitude.toFixed(6),
      isoMicros(t, pick(OFFSETS)),
    ];
    if (o.withUuid) f.unshift(rnd() < 0.1 ? '' : uuidV4From(rnd));
    const at = (name: string) => columns.indexOf(name);
    const bad = K > 0 && (i + 1) % K === 0 ? kinds[((i + 1) / K - 1) % kinds.length]! : null;
    let row = f;
    switch (bad) {
      case 'frequency-not-a-number': f[at('signal_frequency')] = '12abc'; break;
      case 'amplitude-nan': f[at('signal_amplitude')] = 'NaN'; break;
      case 'negative-user-id': f[at('user_id')] = '-5'; break;
      case 'empty-muscle-group': f[at('muscle_group')] = ''; break;
      case 'bad-date': f[at('event_timestamp')] = '2026-02-30T10:00:00Z'; break;
      case 'timestamp-without-offset': f[at('event_timestamp')] = '2026-01-01 10:00:00'; break;
      case 'extra-field': f.push('extra'); break;
      case 'stray-quote': f[at('prosthesis_type')] = `hand"${f[at('prosthesis_type')]}`; break;
      case 'unclosed-quote': f[at('muscle_group')] = `"${f[at('muscle_group')]}`; break;
      case 'year-zero': f[at('event_timestamp')] = '0000-06-01T00:00:00Z'; break;
      case 'duplicate': if (lastGood) row = lastGood; break;
      case 'bad-uuid': f[0] = 'not-a-uuid'; break;
    }
    const status: RowStatus = bad === null ? 'ok' : bad === 'duplicate' ? (lastGood ? 'duplicate' : 'ok') : 'bad';
    if (status === 'ok') lastGood = f;
    // Telemetry values never need quoting; the corrupt ones are written as they are.
    yield { text: `${row.join(',')}\n`, status, ...(bad ? { corruption: bad } : {}), lines: 1 };
  }
}

function csvCellOneLine(v: string): string {
  return csvCell(v.replace(/\n/g, ' '));
}

function countLines(text: string): number {
  let n = 0;
  for (let p = text.indexOf('\n'); p !== -1; p = text.indexOf('\n', p + 1)) n++;
  return n;
}

function uuidV4From(rnd: () => number): string {
  const h: string[] = [];
  for (let i = 0; i < 4; i++) h.push((Math.floor(rnd() * 2 ** 32) >>> 0).toString(16).padStart(8, '0'));
  const s = h.join('');
  const v = ((parseInt(s[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-4${s.slice(13, 16)}-${v}${s.slice(17, 20)}-${s.slice(20, 32)}`;
}

/** Streams the file to `out` in ~64 KiB chunks, waiting for 'drain' when the consumer is slower. */
export async function writeCsv(o: GenerateOptions, out: Writable): Promise<void> {
  let chunk = '';
  for (const r of generateRecords(o)) {
    chunk += r.text;
    if (chunk.length >= 1 << 16) {
      const ok = out.write(chunk);
      chunk = '';
      if (!ok) await once(out, 'drain');
    }
  }
  if (chunk) out.write(chunk);
}
