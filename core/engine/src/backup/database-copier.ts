import Sqlite from 'better-sqlite3';
import { SlipwayError } from '@slipway/contracts';

/**
 * How a database becomes a file in a backup. The seam for the store's engines: SQLite's online backup API
 * today; a PostgreSQL store would add a pg_dump copier here, chosen by `store.url`.
 */
export interface DatabaseCopier {
  /** Copies a consistent snapshot of the live database `source` into the new file `target`. */
  copy(source: string, target: string): Promise<void>;
}

/**
 * SQLite's online backup API (never a file copy: a live WAL database is the main file plus a WAL that a
 * plain copy would tear). It reads a snapshot while the control plane keeps writing; if another connection
 * writes between two steps SQLite starts the copy over, so what lands is always one consistent state.
 * The copy leaves WAL mode, so the backup is one self-contained file per database.
 */
export class SqliteOnlineCopier implements DatabaseCopier {
  async copy(source: string, target: string): Promise<void> {
    const db = new Sqlite(source, { fileMustExist: true, timeout: 5000 });
    try {
      // The first step sizes the copy; then every remaining page goes in one step (one read transaction).
      await db.backup(target, { progress: () => 0x7fffffff });
    } finally {
      db.close();
    }
    const copy = new Sqlite(target);
    try {
      copy.pragma('journal_mode = DELETE');
      // A copy that does not read back is no backup: say so now, not on the day of the restore.
      const check = copy.pragma('quick_check', { simple: true });
      if (check !== 'ok')
        throw new SlipwayError('Internal', `the backup copy of ${source} fails SQLite's check: ${String(check)}`, {
          hint: 'Run the backup again; if it repeats, check the disk of the home.',
        });
    } finally {
      copy.close();
    }
  }
}

/** The last migration applied to a store file: the schema level a restore brings back. */
export function migrationLevelOf(file: string): string | null {
  const db = new Sqlite(file, { readonly: true, fileMustExist: true });
  try {
    const row = db.prepare('SELECT name FROM kysely_migration ORDER BY name DESC LIMIT 1').get() as
      | { name: string }
      | undefined;
    return row?.name ?? null;
  } finally {
    db.close();
  }
}
