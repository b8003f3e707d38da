import Sqlite from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect } from 'kysely';
import { SlipwayError } from '@slipway/contracts';
import { migrationProvider } from './migrations.js';
import type { Database } from './schema.js';
import { createPrivately, restrict } from './private-file.js';

export type Db = Kysely<Database>;

/**
 * Opens (creating if needed) the control plane's SQLite file and brings its schema up to date.
 * WAL with synchronous=NORMAL: a commit survives a process crash (kill -9); only an OS crash can lose
 * the last transactions, which the idempotent steps then redo.
 */
export async function openStore(file: string, options: { onQuery?: (seconds: number) => void } = {}): Promise<Db> {
  createPrivately(file);
  const sqlite = new Sqlite(file);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  const onQuery = options.onQuery;
  const db = new Kysely<Database>({
    dialect: new SqliteDialect({ database: cachingStatements(sqlite) }),
    // Query time for the store's metric; kysely measures it around each execution.
    ...(onQuery ? { log: (event: { queryDurationMillis: number }) => onQuery(event.queryDurationMillis / 1000) } : {}),
  });
  restrict(file);
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
