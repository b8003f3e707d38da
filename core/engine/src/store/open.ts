import Sqlite from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect } from 'kysely';
import { SlipwayError } from '@slipway/contracts';
import { migrationProvider } from './migrations.js';
import type { Database } from './schema.js';

export type Db = Kysely<Database>;

/**
 * Opens (creating if needed) the control plane's SQLite file and brings its schema up to date.
 * WAL with synchronous=NORMAL: a commit survives a process crash (kill -9); only an OS crash can lose
 * the last transactions, which the idempotent steps then redo.
 */
export async function openStore(file: string): Promise<Db> {
  const sqlite = new Sqlite(file);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  const migrator = new Migrator({ db, provider: migrationProvider });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    await db.destroy();
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new SlipwayError('Internal', `store migration ${failed} failed on ${file}: ${(error as Error).message}`, {
      cause: error, hint: 'Restore the state directory from a backup, or report this with the message above.',
    });
  }
  return db;
}
