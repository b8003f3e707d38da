import { randomUUID } from 'node:crypto';
import { sql, type Kysely, type Migration } from 'kysely';
import { binary, identity } from './dialect.js';

export const migrations: Record<string, Migration> = {
  '0001_versions': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('credential_versions')
        .addColumn('seq', 'integer', identity(db))
        .addColumn('id', 'text', (c) => c.notNull().unique())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('sealed', binary(db), (c) => c.notNull())
        .addColumn('wrapped_key', binary(db), (c) => c.notNull())
        .addColumn('key_id', 'text', (c) => c.notNull())
        .addColumn('metadata', 'text')
        .addColumn('transitional', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('expiry_date', 'text')
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('credential_versions_name')
        .on('credential_versions')
        .columns(['name', 'seq'])
        .execute();
    },
  },
  // Credentials get a stable uuid and their certificates' public half; permissions and audit arrive.
  '0002_credentials_permissions_audit': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('credentials')
        .addColumn('uuid', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull().unique())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('ca_name', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('credentials_ca_name').on('credentials').column('ca_name').execute();
      for (const [column, type, fallback] of [
        ['credential_uuid', 'text', null],
        ['certificate', 'text', null],
        ['ca_certificate', 'text', null],
        ['is_ca', 'integer', 0],
        ['self_signed', 'integer', 0],
        ['generated', 'integer', 1],
      ] as const) {
        await db.schema
          .alterTable('credential_versions')
          .addColumn(column, type, (c) => (fallback === null ? c : c.notNull().defaultTo(fallback)))
          .execute();
      }
      // Every version of a name has one type; min() says so in a way PostgreSQL accepts too.
      const names = await db
        .selectFrom('credential_versions')
        .select(['name', sql<string>`min(type)`.as('type'), sql<string>`min(created_at)`.as('created_at')])
        .groupBy('name')
        .execute();
      for (const row of names) {
        const uuid = randomUUID();
        await db
          .insertInto('credentials')
          .values({ uuid, name: row.name, type: row.type, ca_name: null, created_at: row.created_at })
          .execute();
        await db
          .updateTable('credential_versions')
          .set({ credential_uuid: uuid })
          .where('name', '=', row.name)
          .execute();
      }
      await db.schema
        .createIndex('credential_versions_credential')
        .on('credential_versions')
        .columns(['credential_uuid', 'seq'])
        .execute();

      await db.schema
        .createTable('permissions')
        .addColumn('uuid', 'text', (c) => c.primaryKey())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('path', 'text', (c) => c.notNull())
        .addColumn('operations', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addUniqueConstraint('permissions_actor_path', ['actor', 'path'])
        .execute();
      await db.schema.createIndex('permissions_path').on('permissions').column('path').execute();

      await db.schema
        .createTable('audit_events')
        .addColumn('seq', 'integer', identity(db))
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('operation', 'text', (c) => c.notNull())
        .addColumn('name', 'text')
        .addColumn('version_id', 'text')
        .addColumn('result', 'text', (c) => c.notNull())
        .addColumn('source_address', 'text')
        .addColumn('details', 'text')
        .execute();
      await db.schema.createIndex('audit_events_at').on('audit_events').column('at').execute();
      await db.schema.createIndex('audit_events_actor').on('audit_events').columns(['actor', 'seq']).execute();
      await db.schema.createIndex('audit_events_name').on('audit_events').columns(['name', 'seq']).execute();
    },
  },
};
