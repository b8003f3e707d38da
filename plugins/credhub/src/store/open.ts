import { chmodSync, closeSync, existsSync, openSync } from 'node:fs';
import Sqlite from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect, type SqliteDatabase, type SqliteStatement } from 'kysely';
import { migrations } from './migrations.js';
import type { CredentialDb, CredhubSchema } from './schema.js';

/** Opens (creating or migrating) the credential database; WAL, and deleted secrets overwritten on disk. */
export async function openCredentialDb(file: string): Promise<CredentialDb> {
  // Private whatever the umask: created 0600 (SQLite gives -wal and -shm the database's mode), and set
  // again at every open for stores created before.
  closeSync(openSync(file, 'a', 0o600));
  const sqlite = new Sqlite(file);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  // Deleted secrets' bytes are overwritten, not left in free pages or the WAL.
  sqlite.pragma('secure_delete = ON');
  for (const path of [file, `${file}-wal`, `${file}-shm`]) if (existsSync(path)) chmodSync(path, 0o600);
  const db = new Kysely<CredhubSchema>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
  const { error } = await new Migrator({ db, provider: { getMigrations: async () => migrations } }).migrateToLatest();
  if (error) {
    await db.destroy();
    throw error;
  }
  return db;
}

const CACHED_STATEMENTS = 256;

/**
 * kysely's SQLite driver prepares every query anew; preparing costs about a third of a point read.
 * The queries are a small fixed set, so their statements are kept. Safe because the driver runs one
 * statement at a time to completion (`all` or `run`, one connection behind a mutex).
 */
function withStatementCache(db: Sqlite.Database): SqliteDatabase {
  const cache = new Map<string, SqliteStatement>();
  return {
    close: () => db.close(),
    prepare(sql: string): SqliteStatement {
      let statement = cache.get(sql);
      if (!statement) {
        statement = db.prepare(sql) as unknown as SqliteStatement;
        if (cache.size >= CACHED_STATEMENTS) cache.delete(cache.keys().next().value!);
        cache.set(sql, statement);
      }
      return statement;
    },
  };
}

/** The ids of the keys the versions in a credential database are sealed under (opened read-only). */
export async function keyIdsInUse(file: string): Promise<string[]> {
  const sqlite = new Sqlite(file, { readonly: true, fileMustExist: true });
  try {
    return (sqlite.prepare('SELECT DISTINCT key_id FROM credential_versions ORDER BY key_id').all() as Array<{ key_id: string }>).map((r) => r.key_id);
  } finally {
    sqlite.close();
  }
}
