import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { PrismaPg } from '@prisma/adapter-pg';

/*
 * Fixes for @prisma/adapter-pg 6.19.x, needed when Prisma's JS (WASM) schema
 * engine (`engine: 'js'` in prisma.config.ts) runs migrations through it. They
 * live in our code, not in node_modules, so they survive `npm ci`. The runtime
 * client uses the same adapter (harmless there; it also lets $queryRaw return
 * `name` columns such as current_user).
 *
 * 1. Prisma issue #27403: no column-type mapping for PostgreSQL `name` (OID 19):
 *    `migrate deploy/status` fail with "Column type 'name' could not be
 *    deserialized from the database". Prisma 7's adapter maps `name` to Text; we
 *    rewrite the OID in each RowDescription (pg.Client subclass) before pg and
 *    the adapter look at it.
 * 2. The schema describer (migrate dev, migrate diff --from-migrations, reset)
 *    reads `"char"` (OID 18) columns from pg_catalog (relkind, contype, …); the
 *    adapter has no mapping either, and the engine wants them as Character, not
 *    Text (Text makes the WASM engine panic with "RuntimeError: unreachable" as
 *    soon as a table has a CHECK constraint). We pass them as text, tag the column
 *    name, and turn the tag into ColumnType Character in queryRaw.
 * 3. executeScript() splits a migration on every ";" and sends the pieces one by
 *    one: dollar-quoted bodies ($$ … ; … $$), ";" in strings/comments break, and a
 *    failing migration is left half-applied. We send the whole script as ONE
 *    simple-protocol query, as Prisma's Rust engine does; PostgreSQL runs it as
 *    one implicit transaction, so a failing migration is rolled back as a whole.
 * 4. connectToShadowDb() spreads the pool config and sets `database` to the new
 *    shadow database, but pg lets `connectionString` win over `database`, so the
 *    "shadow" pool is the REAL database: migrate dev / diff --from-migrations
 *    replay every migration on it. We build the shadow URL ourselves.
 */

const NAME_OID = 19;
const NAME_ARRAY_OID = 1003;
const CHAR_OID = 18;
const TEXT_OID = 25;
const TEXT_ARRAY_OID = 1009;
const CHAR_TAG = '\u0000pg-char';
const COLUMN_TYPE_CHARACTER = 6; // ColumnTypeEnum.Character in @prisma/driver-adapter-utils

interface RowDescriptionMessage {
  fields: Array<{ name: string; dataTypeID: number }>;
}

export class PrismaCompatClient extends pg.Client {
  constructor(config?: string | pg.ClientConfig) {
    super(config);
    this.connection.prependListener('rowDescription', (msg: RowDescriptionMessage) => {
      for (const field of msg.fields) {
        if (field.dataTypeID === NAME_OID) field.dataTypeID = TEXT_OID;
        else if (field.dataTypeID === NAME_ARRAY_OID) field.dataTypeID = TEXT_ARRAY_OID;
        else if (field.dataTypeID === CHAR_OID) {
          field.dataTypeID = TEXT_OID;
          field.name += CHAR_TAG;
        }
      }
    });
  }
}

type PgAdapter = Awaited<ReturnType<PrismaPg['connect']>>;
type Queryable = Pick<PgAdapter, 'queryRaw'>;
type ResultSet = Awaited<ReturnType<PgAdapter['queryRaw']>>;

function untagCharColumns(rs: ResultSet): ResultSet {
  rs.columnNames.forEach((name, i) => {
    if (name.endsWith(CHAR_TAG)) {
      rs.columnNames[i] = name.slice(0, -CHAR_TAG.length);
      rs.columnTypes[i] = COLUMN_TYPE_CHARACTER;
    }
  });
  return rs;
}

function patchQueryRaw<T extends Queryable>(q: T): T {
  const queryRaw = q.queryRaw.bind(q);
  q.queryRaw = async (query) => untagCharColumns(await queryRaw(query));
  return q;
}

function patchAdapter(adapter: PgAdapter): PgAdapter {
  patchQueryRaw(adapter);
  const startTransaction = adapter.startTransaction.bind(adapter);
  adapter.startTransaction = async (isolationLevel) => patchQueryRaw(await startTransaction(isolationLevel));
  // Empty parameter list => pg uses the simple query protocol (many statements
  // in one string); errors still go through the adapter's error conversion.
  adapter.executeScript = async (script: string): Promise<void> => {
    await adapter.executeRaw({ sql: script, args: [], argTypes: [] });
  };
  return adapter;
}

export type PgConfig = pg.PoolConfig & { connectionString: string };

/** PrismaPg with the fixes above. Use it in prisma.config.ts and for the runtime client. */
export class FixedPrismaPg extends PrismaPg {
  readonly #config: PgConfig;

  /** A config (the CLI) or a pool from `createPool` (the apps, which watch the pool). */
  constructor(config: PgConfig | pg.Pool) {
    if (config instanceof pg.Pool) {
      super(config);
      this.#config = config.options as PgConfig;
    } else {
      super({ ...config, Client: PrismaCompatClient });
      this.#config = config;
    }
  }

  override async connect(): Promise<PgAdapter> {
    return patchAdapter(await super.connect());
  }

  override async connectToShadowDb(): Promise<PgAdapter> {
    const admin = await this.connect();
    const name = `prisma_migrate_shadow_db_${randomUUID()}`;
    await admin.executeScript(`CREATE DATABASE "${name}"`);
    const url = new URL(this.#config.connectionString);
    url.pathname = `/${name}`;
    const shadow = await new FixedPrismaPg({ ...this.#config, connectionString: url.toString() }).connect();
    const disposeShadow = shadow.dispose.bind(shadow);
    shadow.dispose = async (): Promise<void> => {
      try {
        await disposeShadow();
        await admin.executeScript(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await admin.dispose();
      }
    };
    return shadow;
  }
}

export function createPgAdapter(connectionString: string, poolConfig: pg.PoolConfig = {}): FixedPrismaPg {
  return new FixedPrismaPg({ ...poolConfig, connectionString });
}

/**
 * The apps' pool. Every wait is bounded so that a database outage becomes a quick
 * error (the APIs answer 503) instead of a request that hangs: connecting gives up
 * after `connectionTimeoutMillis`, a query after `query_timeout`.
 */
export function createPool(connectionString: string, overrides: pg.PoolConfig = {}): pg.Pool {
  return new pg.Pool({
    connectionString,
    Client: PrismaCompatClient,
    max: 10,
    connectionTimeoutMillis: 2_000,
    idleTimeoutMillis: 30_000,
    query_timeout: 15_000,
    ...overrides,
  });
}
