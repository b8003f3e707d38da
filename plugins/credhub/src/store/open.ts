import { chmodSync, closeSync, existsSync, openSync, renameSync } from 'node:fs';
import Sqlite from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect, type SqliteDatabase, type SqliteStatement } from 'kysely';
import type { Logger, PluginDatabase } from '@slipway/contracts';
import { advanceIdentity } from './dialect.js';
import { migrations } from './migrations.js';
import type { CredentialDb, CredhubSchema } from './schema.js';
import { TablePrefixPlugin } from './table-prefix.js';

/** The store's tables, in an order that copies parents before the rows that name them. */
const TABLES = ['credentials', 'credential_versions', 'permissions', 'audit_events'] as const;
/** Tables whose integer key the database numbers. */
const NUMBERED: Partial<Record<(typeof TABLES)[number], string>> = { credential_versions: 'seq', audit_events: 'seq' };

/**
 * Opens the credential store inside the control plane's database (PluginHost.database), its tables prefixed.
 * A credential file left by an earlier version in `legacyFile` is copied in once (rows keep their ids and
 * sequence numbers, so a copy interrupted and redone adds nothing twice) and then renamed `.migrated`.
 */
export async function openSharedCredentialDb(
  database: PluginDatabase,
  legacyFile: string,
  logger?: Logger,
): Promise<CredentialDb> {
  const shared = database.kysely as Kysely<any>;
  const db = shared.withPlugin(new TablePrefixPlugin(database.tablePrefix, TABLES)) as unknown as CredentialDb;
  const { error } = await new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
    migrationTableName: database.migrationTableName,
    migrationLockTableName: database.migrationLockTableName,
  }).migrateToLatest();
  if (error) throw error;
  if (existsSync(legacyFile)) {
    const legacy = await openCredentialDb(legacyFile);
    let copied = 0;
    try {
      await db.transaction().execute(async (trx) => {
        for (const table of TABLES) {
          const rows = await legacy.selectFrom(table).selectAll().execute();
          // Small batches: PostgreSQL takes at most 65535 parameters in one statement.
          for (let i = 0; i < rows.length; i += 200) {
            await (trx as Kysely<any>)
              .insertInto(table)
              .values(rows.slice(i, i + 200))
              .onConflict((oc) => oc.doNothing())
              .execute();
          }
          copied += rows.length;
        }
      });
      for (const [table, column] of Object.entries(NUMBERED))
        await advanceIdentity(shared, database.tablePrefix + table, column);
    } finally {
      await legacy.destroy();
    }
    for (const suffix of ['-wal', '-shm'])
      if (existsSync(legacyFile + suffix)) renameSync(legacyFile + suffix, `${legacyFile}.migrated${suffix}`);
    renameSync(legacyFile, `${legacyFile}.migrated`);
    logger?.info("credential store moved into the control plane's database", {
      rows: copied,
      kept_as: `${legacyFile}.migrated`,
    });
  }
  return db;
}

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

/**
 * The ids of the keys the versions in a credential database are sealed under (opened read-only): the
 * plugin's own file, or the control plane's SQLite database when the store lives there.
 */
export async function keyIdsInUse(file: string, sharedFile?: string, tablePrefix = 'credhub_'): Promise<string[]> {
  const ownFile = existsSync(file);
  if (!ownFile && !(sharedFile && existsSync(sharedFile))) return [];
  const sqlite = new Sqlite(ownFile ? file : sharedFile!, { readonly: true, fileMustExist: true });
  try {
    const table = ownFile ? 'credential_versions' : `${tablePrefix}credential_versions`;
    const present = sqlite.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(table);
    if (!present) return [];
    return (
      sqlite.prepare(`SELECT DISTINCT key_id FROM ${table} ORDER BY key_id`).all() as Array<{ key_id: string }>
    ).map((r) => r.key_id);
  } finally {
    sqlite.close();
  }
}
