import Sqlite from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect, type Migration } from 'kysely';

export interface VersionRow {
  seq: number;
  id: string;
  name: string;
  type: string;
  /** AES-256-GCM sealed JSON `{ value, parameters }` under the row's data key. */
  sealed: Buffer;
  /** The data key, wrapped by the key-encryption key `key_id`. */
  wrapped_key: Buffer;
  key_id: string;
  metadata: string | null;
  transitional: number;
  expiry_date: string | null;
  created_by: string;
  created_at: string;
}

interface Schema {
  credential_versions: Omit<VersionRow, 'seq'> & { seq?: number };
}

export type CredentialDb = Kysely<Schema>;

const migrations: Record<string, Migration> = {
  '0001_versions': {
    async up(db: Kysely<any>) {
      await db.schema.createTable('credential_versions')
        .addColumn('seq', 'integer', (c) => c.primaryKey().autoIncrement())
        .addColumn('id', 'text', (c) => c.notNull().unique())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('sealed', 'blob', (c) => c.notNull())
        .addColumn('wrapped_key', 'blob', (c) => c.notNull())
        .addColumn('key_id', 'text', (c) => c.notNull())
        .addColumn('metadata', 'text')
        .addColumn('transitional', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('expiry_date', 'text')
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('credential_versions_name').on('credential_versions').columns(['name', 'seq']).execute();
    },
  },
};

export async function openCredentialDb(file: string): Promise<CredentialDb> {
  const sqlite = new Sqlite(file);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  // Deleted secrets' bytes are overwritten, not left in free pages.
  sqlite.pragma('secure_delete = ON');
  const db = new Kysely<Schema>({ dialect: new SqliteDialect({ database: sqlite }) });
  const { error } = await new Migrator({ db, provider: { getMigrations: async () => migrations } }).migrateToLatest();
  if (error) {
    await db.destroy();
    throw error;
  }
  return db;
}
