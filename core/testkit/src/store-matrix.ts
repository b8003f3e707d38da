import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * The databases a store test runs against: SQLite always, PostgreSQL when `SLIPWAY_TEST_PG_URL` names a
 * server this process can reach (a role that may create databases). One test file declares its suite once
 * per target (`for (const target of await storeMatrix()) describe.skipIf(target.skip)(target.title, ...)`),
 * so both dialects run the same tests, not two copies.
 *
 * Each file gets its own PostgreSQL database, created on first use and dropped by `dispose()`; `fresh()`
 * empties its tables but keeps the schema and the record of applied migrations (a database per test, or
 * migrating anew, costs seconds on a busy machine). Tests in one file run one after another, so a fresh
 * store never sees another test's rows; a test that checks migrations themselves asks `fresh({ schema: true })`.
 */
export interface StoreTarget {
  dialect: 'sqlite' | 'postgres';
  /** `sqlite` or `postgres`, with the reason when skipped: use it as the describe title. */
  title: string;
  /** Why this target's tests are skipped on this machine (vitest's skipIf takes it as its condition). */
  skip: string | false;
  /** A store URL that holds nothing (SQLite: a new file; PostgreSQL: this file's database, emptied). */
  fresh(options?: { schema?: boolean }): Promise<string>;
  /** Removes what the target made; call it in afterAll. */
  dispose(): Promise<void>;
}

export const PG_URL_VARIABLE = 'SLIPWAY_TEST_PG_URL';

export async function storeMatrix(env: NodeJS.ProcessEnv = process.env): Promise<StoreTarget[]> {
  const adminUrl = env[PG_URL_VARIABLE]?.trim();
  const skip = adminUrl
    ? await unreachable(adminUrl)
    : `${PG_URL_VARIABLE} is not set (export postgres://USER:PASSWORD@127.0.0.1:5432/postgres of a role with CREATEDB to run these on PostgreSQL)`;
  if (skip && env.SLIPWAY_TEST_PG_REQUIRED === '1') throw new Error(`SLIPWAY_TEST_PG_REQUIRED=1 but ${skip}`);
  return [sqliteTarget(), postgresTarget(adminUrl ?? '', skip)];
}

function sqliteTarget(): StoreTarget {
  const dirs: string[] = [];
  return {
    dialect: 'sqlite',
    title: 'sqlite',
    skip: false,
    async fresh() {
      const dir = mkdtempSync(join(tmpdir(), 'slipway-store-'));
      dirs.push(dir);
      return `sqlite:${join(dir, 'slipway.db')}`;
    },
    async dispose() {
      for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
    },
  };
}

function postgresTarget(adminUrl: string, skip: string | false): StoreTarget {
  let database: string | undefined;
  const admin = async <T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> => {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.end();
    }
  };
  const urlOf = (name: string) => {
    const u = new URL(adminUrl);
    u.pathname = `/${name}`;
    return u.toString();
  };
  return {
    dialect: 'postgres',
    title: skip ? `postgres (skipped: ${skip})` : 'postgres',
    skip,
    async fresh(options = {}) {
      if (!database) {
        const name = `slipway_test_${process.pid}_${randomBytes(4).toString('hex')}`;
        await admin(adminUrl, async (c) => {
          await c.query(`create database ${name}`);
          // Commits need not wait for the disk in a test database (a crash of the test server loses nothing
          // of value); on a busy machine that is most of a test's time.
          await c.query(`alter database ${name} set synchronous_commit = off`);
        });
        database = name;
      } else if (options.schema) {
        await admin(urlOf(database), (c) => c.query('drop schema public cascade; create schema public'));
      } else {
        await admin(urlOf(database), async (c) => {
          const { rows } = await c.query<{ name: string }>(
            "select tablename as name from pg_tables where schemaname = 'public' and tablename not like '%migration' and tablename not like '%migration_lock'",
          );
          if (!rows.length) return;
          // Only tables a test wrote to: truncating every table costs a new file each.
          const used = await c.query<Record<string, boolean>>(
            `select ${rows.map((r) => `exists(select 1 from "${r.name}") as "${r.name}"`).join(', ')}`,
          );
          const dirty = rows.filter((r) => used.rows[0][r.name]);
          if (dirty.length)
            await c.query(`truncate table ${dirty.map((r) => `"${r.name}"`).join(', ')} restart identity cascade`);
        });
      }
      return urlOf(database);
    },
    async dispose() {
      if (!database) return;
      const name = database;
      database = undefined;
      // Not `with (force)`: that also signals backends of other roles (an autovacuum worker), which a role
      // without pg_signal_backend may not, and the drop fails. Our own role's leftover connections are ended
      // here; DROP DATABASE itself stops an autovacuum worker it finds in the way.
      await admin(adminUrl, async (c) => {
        await c.query(
          'select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and usename = current_user and pid <> pg_backend_pid()',
          [name],
        );
        for (let attempt = 1; ; attempt++) {
          try {
            return await c.query(`drop database if exists ${name}`);
          } catch (error) {
            // 55006: still being accessed (a connection ending, or autovacuum); it goes within a moment.
            if ((error as { code?: string }).code !== '55006' || attempt >= 20) throw error;
            await new Promise((resolve) => setTimeout(resolve, 100));
          }
        }
      });
    },
  };
}

/** Why the server cannot be used, or false when it answers. The password never appears in the reason. */
async function unreachable(url: string): Promise<string | false> {
  let shown = url;
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    shown = u.toString();
  } catch {
    return `${PG_URL_VARIABLE} is not a URL`;
  }
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
  try {
    await client.connect();
    await client.query('select 1');
    return false;
  } catch (e) {
    return `no PostgreSQL reachable at ${shown}: ${(e as Error).message}`;
  } finally {
    await client.end().catch(() => {});
  }
}
