import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { type ClickHouseError, Codes, chError } from './errors.js';
import { type Grants, readGrants } from './grants.js';

/** min/max bounds a user may not move a setting past, as in a server's profile `constraints`. */
export interface Constraint {
  readonly min?: number;
  readonly max?: number;
}

export interface Profile {
  /** Settings every query of the user starts with (readonly excluded: it is applied last). */
  readonly settings: ReadonlyArray<readonly [string, string]>;
  /** 0, 1 or 2, as ClickHouse's `readonly`. */
  readonly readonly: number;
  readonly constraints: ReadonlyMap<string, Constraint>;
  /** 0 = unlimited. Enforced by this server, not passed to the engine (all Sessions are one engine user). */
  readonly maxConcurrentQueries: number;
}

export interface User {
  readonly name: string;
  readonly profile: Profile;
  /**
   * The user's `grants`, when the users file gives any: then the user may read
   * only what they allow (src/access.ts). Undefined means all, as on a server.
   */
  readonly grants?: Grants;
}

export interface Credentials {
  user: string | undefined;
  password: string | undefined;
}

export interface Users {
  /** The user, or 516 AUTHENTICATION_FAILED in the server's wording. */
  authenticate(given: Credentials): User | ClickHouseError;
  readonly names: readonly string[];
}

const EMPTY_PROFILE: Profile = {
  settings: [],
  readonly: 0,
  constraints: new Map(),
  maxConcurrentQueries: 0,
};

// Settings the server itself acts on rather than handing to the engine.
const SERVER_SIDE = new Set(['readonly', 'max_concurrent_queries_for_user', 'constraints']);

// Hashing first gives equal-length inputs, so the comparison time says nothing
// about the password's length either.
function sameSecret(a: string, b: string): boolean {
  const h = (s: string): Buffer => createHash('sha256').update(s).digest();
  return timingSafeEqual(h(a), h(b));
}

function failed(user: string): ClickHouseError {
  return chError(
    Codes.AUTHENTICATION_FAILED,
    `${user}: Authentication failed: password is incorrect, or there is no user with such name`,
  );
}

interface Account {
  name: string;
  profile: Profile;
  grants: Grants | undefined;
  check(password: string): boolean;
}

function makeUsers(accounts: Account[]): Users {
  const byName = new Map(accounts.map((a) => [a.name, a]));
  return {
    names: accounts.map((a) => a.name),
    authenticate(given) {
      const name = given.user || 'default';
      const account = byName.get(name);
      // Compare even for an unknown user, so timing does not tell which names exist.
      const ok = account ? account.check(given.password ?? '') : sameSecret(given.password ?? '', '\0');
      if (!account || !ok) return failed(name);
      return account.grants ? { name, profile: account.profile, grants: account.grants } : { name, profile: account.profile };
    },
  };
}

/** One user with no limits: what CLICKHOUSE_USER/CLICKHOUSE_PASSWORD give when no users file is set. */
export function singleUser(name: string, password: string): Users {
  return makeUsers([
    { name, profile: EMPTY_PROFILE, grants: undefined, check: (p) => password === '' || sameSecret(p, password) },
  ]);
}

type Env = Record<string, string | undefined>;

function scalar(value: unknown, where: string, env: Env): string {
  if (value !== null && typeof value === 'object' && '@from_env' in value) {
    const name = String((value as Record<string, unknown>)['@from_env']);
    const v = env[name];
    if (v === undefined) throw new Error(`${where}: environment variable ${name} is not set`);
    return v;
  }
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
    return String(value);
  }
  if (value === null || value === undefined) return '';
  throw new Error(`${where}: expected a value, got ${JSON.stringify(value)}`);
}

function number(value: unknown, where: string): number {
  const n = Number(value);
  if (!Number.isFinite(n)) throw new Error(`${where}: ${JSON.stringify(value)} is not a number`);
  return n;
}

function readProfile(name: string, raw: unknown, env: Env): Profile {
  if (raw === null || typeof raw !== 'object') throw new Error(`profiles.${name}: expected a mapping`);
  const entries = Object.entries(raw as Record<string, unknown>);
  const settings = entries
    .filter(([k]) => !SERVER_SIDE.has(k))
    .map(([k, v]) => [k, scalar(v, `profiles.${name}.${k}`, env)] as const);
  const get = (k: string): unknown => (raw as Record<string, unknown>)[k];
  const constraints = new Map<string, Constraint>();
  const rawConstraints = get('constraints');
  if (rawConstraints !== undefined && rawConstraints !== null) {
    for (const [setting, c] of Object.entries(rawConstraints as Record<string, unknown>)) {
      const where = `profiles.${name}.constraints.${setting}`;
      const o = (c ?? {}) as Record<string, unknown>;
      constraints.set(setting, {
        ...(o.min !== undefined && { min: number(o.min, `${where}.min`) }),
        ...(o.max !== undefined && { max: number(o.max, `${where}.max`) }),
      });
    }
  }
  return {
    settings,
    readonly: get('readonly') === undefined ? 0 : number(get('readonly'), `profiles.${name}.readonly`),
    constraints,
    maxConcurrentQueries:
      get('max_concurrent_queries_for_user') === undefined
        ? 0
        : number(get('max_concurrent_queries_for_user'), `profiles.${name}.max_concurrent_queries_for_user`),
  };
}

// A server refuses these next to `grants` ("Any other access control settings
// can't be specified with `grants`"); so does this reader, so the file fails the
// same way in both places.
const EXCLUSIVE_WITH_GRANTS = [
  'access_management',
  'allow_databases',
  'allow_dictionaries',
  'named_collection_control',
  'named_collection_admin',
  'show_named_collections_secrets',
];

function isSet(value: unknown): boolean {
  return value !== undefined && value !== null && value !== false && value !== 0 && value !== '0' && value !== 'false';
}

function readAccount(name: string, raw: Record<string, unknown>, profiles: Map<string, Profile>, env: Env): Account {
  const where = `users.${name}`;
  const profileName = raw.profile === undefined ? 'default' : String(raw.profile);
  const profile = profiles.get(profileName) ?? (profileName === 'default' ? EMPTY_PROFILE : undefined);
  if (!profile) throw new Error(`${where}.profile: no profile named ${profileName}`);
  const grants = readGrants(raw.grants, `${where}.grants`);
  const clash = grants && EXCLUSIVE_WITH_GRANTS.find((k) => isSet(raw[k]));
  if (clash) throw new Error(`${where}: ${clash} can't be specified with grants`);
  if (raw.password_sha256_hex !== undefined) {
    const hex = scalar(raw.password_sha256_hex, `${where}.password_sha256_hex`, env).toLowerCase();
    return {
      name,
      profile,
      grants,
      check: (p) => sameSecret(createHash('sha256').update(p).digest('hex'), hex),
    };
  }
  const password = scalar(raw.password, `${where}.password`, env);
  return { name, profile, grants, check: (p) => sameSecret(p, password) };
}

/**
 * Reads a ClickHouse users file in its YAML form (`profiles`, `users`, with
 * `password` / `password_sha256_hex`, `grants`, `@from_env` and `@remove`), the same file a
 * real server takes in users.d. Errors name the offending key.
 */
export function loadUsers(file: string, env: Env = process.env): Users {
  let doc: unknown;
  try {
    doc = parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`users file ${file}: ${(e as Error).message}`);
  }
  const root = (doc ?? {}) as Record<string, unknown>;
  try {
    const profiles = new Map<string, Profile>();
    for (const [name, raw] of Object.entries((root.profiles ?? {}) as Record<string, unknown>)) {
      profiles.set(name, readProfile(name, raw, env));
    }
    const accounts: Account[] = [];
    for (const [name, raw] of Object.entries((root.users ?? {}) as Record<string, unknown>)) {
      const o = (raw ?? {}) as Record<string, unknown>;
      if (o['@remove'] !== undefined) continue;
      accounts.push(readAccount(name, o, profiles, env));
    }
    if (accounts.length === 0) throw new Error('no users defined');
    return makeUsers(accounts);
  } catch (e) {
    throw new Error(`users file ${file}: ${(e as Error).message}`);
  }
}

/** Checks a setting change against the user's constraints; the error is a server's 452. */
export function checkConstraint(profile: Profile, name: string, value: string): ClickHouseError | undefined {
  const c = profile.constraints.get(name);
  if (!c) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n)) {
    return chError(Codes.SETTING_CONSTRAINT_VIOLATION, `Setting ${name} should be a number to be checked against its constraints`);
  }
  if (c.max !== undefined && n > c.max) {
    return chError(Codes.SETTING_CONSTRAINT_VIOLATION, `Setting ${name} shouldn't be greater than ${c.max}`);
  }
  if (c.min !== undefined && n < c.min) {
    return chError(Codes.SETTING_CONSTRAINT_VIOLATION, `Setting ${name} shouldn't be less than ${c.min}`);
  }
  return undefined;
}
