import { isAbsolute, resolve } from 'node:path';
import Sqlite from 'better-sqlite3';
import pg from 'pg';
import {
  PostgresAdapter,
  PostgresDialect,
  SqliteDialect,
  type ColumnDataType,
  type ColumnDefinitionBuilder,
  type Dialect,
  type Kysely,
} from 'kysely';
import { SlipwayError } from '@slipway/contracts';
import { createPrivately, restrict } from './private-file.js';

/**
 * The one module that knows which database the store runs on. Everything dialect-specific lives here: how a
 * store URL is read, how a connection is opened, the DDL that differs (identity columns, binary columns) and
 * how each driver reports a unique violation. Migrations and repositories ask this module and stay portable.
 */
export type StoreDialectName = 'sqlite' | 'postgres';

export type StoreLocation = { dialect: 'sqlite'; file: string } | { dialect: 'postgres'; url: string };

/**
 * Reads `store.url` / `SLIPWAY_STORE_URL`: `sqlite:PATH` (relative to `baseDir`), `postgres://...` or
 * `postgresql://...`, or a bare path (a SQLite file, as homes have always had).
 */
export function parseStoreUrl(url: string, baseDir = process.cwd(), field = 'store.url'): StoreLocation {
  const value = url.trim();
  if (/^postgres(ql)?:\/\//i.test(value)) {
    try {
      new URL(value);
    } catch {
      throw new SlipwayError(
        'InvalidConfig',
        `${field}: not a valid PostgreSQL URL; write postgres://USER:PASSWORD@HOST:PORT/DATABASE`,
        { field },
      );
    }
    return { dialect: 'postgres', url: value };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value) || (/^[a-z][a-z0-9+.-]+:/i.test(value) && !/^sqlite:/i.test(value))) {
    throw new SlipwayError(
      'InvalidConfig',
      `${field}: unknown store "${value.split(':')[0]}"; use sqlite:PATH or postgres://USER:PASSWORD@HOST:PORT/DATABASE`,
      { field },
    );
  }
  const path = value.replace(/^sqlite:(\/\/)?/i, '');
  if (!path)
    throw new SlipwayError('InvalidConfig', `${field}: sqlite: needs a file path, e.g. sqlite:slipway.db`, { field });
  return { dialect: 'sqlite', file: isAbsolute(path) ? path : resolve(baseDir, path) };
}

/** A store location for messages and logs: the PostgreSQL password is never shown. */
export function describeStore(location: StoreLocation): string {
  if (location.dialect === 'sqlite') return `sqlite:${location.file}`;
  const u = new URL(location.url);
  if (u.password) u.password = '***';
  return u.toString();
}

export interface OpenedDialect {
  dialect: Dialect;
  /** Called once the database is open (SQLite: tighten the files' modes after WAL created them). */
  afterOpen(): void;
}

/**
 * PostgreSQL returns int8 (count(*), sum of integers) as a string so no precision is lost; the store's
 * counts and ids stay far below 2^53, so they come back as numbers as on SQLite. A value past that limit
 * stays a string rather than silently losing digits.
 */
const PG_INT8 = 20;
const pgTypes = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === PG_INT8 && format !== 'binary') {
      return (text: string) => {
        const n = Number(text);
        return Number.isSafeInteger(n) ? n : text;
      };
    }
    return pg.types.getTypeParser(oid, format as 'text');
  },
};

export function openDialect(location: StoreLocation, options: { poolSize?: number } = {}): OpenedDialect {
  if (location.dialect === 'postgres') {
    const pool = new pg.Pool({
      connectionString: location.url,
      max: options.poolSize ?? 10,
      types: pgTypes as never,
      // A replica must notice a dead server instead of hanging on it.
      connectionTimeoutMillis: 10_000,
      idleTimeoutMillis: 30_000,
    });
    // An idle client whose server went away emits 'error' on the pool; without a listener Node would exit.
    pool.on('error', () => {});
    return { dialect: new PostgresDialect({ pool }), afterOpen() {} };
  }
  const file = location.file;
  createPrivately(file);
  const sqlite = new Sqlite(file);
  // WAL with synchronous=NORMAL: a commit survives a process crash (kill -9); only an OS crash can lose the
  // last transactions, which the idempotent steps then redo.
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  // The credential store keeps its (sealed) secrets here: a deleted version's bytes are overwritten, not
  // left in free pages or the WAL.
  sqlite.pragma('secure_delete = ON');
  return { dialect: new SqliteDialect({ database: cachingStatements(sqlite) }), afterOpen: () => restrict(file) };
}

/** Which database a Kysely instance talks to (migrations get only the instance). */
export function dialectOf(db: Kysely<any>): StoreDialectName {
  return db.getExecutor().adapter instanceof PostgresAdapter ? 'postgres' : 'sqlite';
}

/**
 * An integer primary key the database numbers: SQLite's `integer primary key autoincrement` (ids never
 * reused, as before), PostgreSQL's identity column.
 */
export function identityColumn(db: Kysely<any>): (col: ColumnDefinitionBuilder) => ColumnDefinitionBuilder {
  return dialectOf(db) === 'postgres'
    ? (col) => col.primaryKey().generatedByDefaultAsIdentity()
    : (col) => col.primaryKey().autoIncrement();
}

/** A column of raw bytes (read back as a Buffer on both). */
export function binaryType(db: Kysely<any>): ColumnDataType {
  return dialectOf(db) === 'postgres' ? 'bytea' : 'blob';
}

/**
 * True when a statement failed because a unique constraint or primary key already holds the value: the
 * drivers' error codes, never their message text. Callers use it where only one constraint can fire.
 */
export function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

/**
 * kysely's SQLite driver prepares every query anew; with a few dozen query shapes repeated thousands of
 * times, preparing was a tenth of the control plane's CPU under load. Statements are cached by SQL text
 * (bounded, oldest dropped first). Safe because the driver only runs `all`/`run`, never holds an iterator
 * across awaits of another query on the same statement.
 */
function cachingStatements(sqlite: Sqlite.Database, capacity = 256): Sqlite.Database {
  const cache = new Map<string, Sqlite.Statement>();
  const prepare = sqlite.prepare.bind(sqlite);
  const cached = ((source: string) => {
    let statement = cache.get(source);
    if (!statement) {
      statement = prepare(source);
      cache.set(source, statement);
      if (cache.size > capacity) cache.delete(cache.keys().next().value!);
    }
    return statement;
  }) as Sqlite.Database['prepare'];
  return Object.assign(sqlite, { prepare: cached });
}
