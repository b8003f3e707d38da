import { Kysely, Migrator } from 'kysely';
import { SlipwayError } from '@slipway/contracts';
import { describeStore, openDialect, type StoreLocation } from './dialect.js';
import { migrationProvider } from './migrations.js';
import type { Database } from './schema.js';

export type Db = Kysely<Database>;

/** Opens (creating a SQLite file if needed) the control plane's database and brings its schema up to date. */
export async function openStore(
  location: StoreLocation,
  options: { onQuery?: (seconds: number) => void } = {},
): Promise<Db> {
  const opened = openDialect(location);
  const onQuery = options.onQuery;
  const db = new Kysely<Database>({
    dialect: opened.dialect,
    // Query time for the store's metric; kysely measures it around each execution.
    ...(onQuery ? { log: (event: { queryDurationMillis: number }) => onQuery(event.queryDurationMillis / 1000) } : {}),
  });
  opened.afterOpen();
  try {
    const migrator = new Migrator({ db, provider: migrationProvider });
    const { error, results } = await migrator.migrateToLatest();
    if (error) {
      const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'before any migration';
      throw new SlipwayError(
        'Internal',
        `store migration ${failed} failed on ${describeStore(location)}: ${(error as Error).message}`,
        {
          cause: error,
          hint:
            location.dialect === 'sqlite'
              ? 'Restore the state directory from a backup, or report this with the message above.'
              : 'Check that the database is reachable and the role may create tables in it (store.url / SLIPWAY_STORE_URL), or restore it from a backup.',
        },
      );
    }
  } catch (e) {
    await db.destroy();
    throw e;
  }
  return db;
}
