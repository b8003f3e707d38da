import { PostgresAdapter, sql, type ColumnDataType, type ColumnDefinitionBuilder, type Kysely } from 'kysely';

/**
 * The credential store's one dialect-aware module: it runs on its own SQLite file, or in the control plane's
 * database (SQLite or PostgreSQL). DDL and statements that differ between the two are chosen here.
 */
export function isPostgres(db: Kysely<any>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}

/** An integer key the database numbers (SQLite: never reused; PostgreSQL: an identity column). */
export function identity(db: Kysely<any>): (col: ColumnDefinitionBuilder) => ColumnDefinitionBuilder {
  return isPostgres(db)
    ? (col) => col.primaryKey().generatedByDefaultAsIdentity()
    : (col) => col.primaryKey().autoIncrement();
}

/** Sealed bytes: SQLite's blob, PostgreSQL's bytea (both read back as a Buffer). */
export function binary(db: Kysely<any>): ColumnDataType {
  return isPostgres(db) ? 'bytea' : 'blob';
}

/**
 * After rows were copied in with their own keys: PostgreSQL's identity sequence must move past them (SQLite's
 * autoincrement already did).
 */
export async function advanceIdentity(db: Kysely<any>, table: string, column: string): Promise<void> {
  if (!isPostgres(db)) return;
  await sql`select setval(pg_get_serial_sequence(${table}, ${column}), coalesce((select max(${sql.ref(column)}) from ${sql.table(table)}), 0) + 1, false)`.execute(
    db,
  );
}
