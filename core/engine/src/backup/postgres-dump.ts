import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import pg from 'pg';
import { SlipwayError } from '@slipway/contracts';

/** The backup's copy of a PostgreSQL store: pg_dump's custom format (compressed, restorable table by table). */
export const PG_DUMP_FILE = 'slipway.pgdump';

/** A program on PATH, or undefined. */
export function onPath(program: string, env: Record<string, string | undefined> = process.env): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir && existsSync(join(dir, program))) return join(dir, program);
  }
  return undefined;
}

/**
 * The URL without its password, and the password apart: PostgreSQL's tools read it from PGPASSWORD, so it
 * never stands in a command line another user's `ps` shows.
 */
function split(url: string): { url: string; password?: string } {
  const u = new URL(url);
  const password = u.password ? decodeURIComponent(u.password) : undefined;
  u.password = '';
  return { url: u.toString(), password };
}

function run(
  program: string,
  args: string[],
  url: string,
  env: Record<string, string | undefined>,
  what: string,
): Promise<void> {
  const { url: bare, password } = split(url);
  return new Promise((resolve, reject) => {
    const child = spawn(program, [...args, `--dbname=${bare}`], {
      env: { ...env, ...(password ? { PGPASSWORD: password } : {}) } as NodeJS.ProcessEnv,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    child.on('error', (e) => reject(new SlipwayError('Internal', `${what}: ${e.message}`, { cause: e })));
    child.on('close', (code) => {
      if (code === 0) resolve();
      else
        reject(
          new SlipwayError(
            'Internal',
            `${what} failed (exit ${code}): ${stderr.trim().split('\n').slice(-3).join(' ')}`,
            {
              hint: 'Check that the store URL reaches the database and that its role may read (backup) or create (restore) every table.',
            },
          ),
        );
    });
  });
}

const USE_POSTGRES_TOOLS =
  "The store is in PostgreSQL: back it up with PostgreSQL's own tools (pg_dump --format=custom, continuous archiving, or your provider's snapshots) and keep slipway.yaml and the plugins' files with it; see docs/operations.md.";

/** `slipway backup` of a PostgreSQL store: pg_dump when it is on PATH, else a refusal that says what to use. */
export async function dumpPostgres(
  url: string,
  file: string,
  env: Record<string, string | undefined> = process.env,
): Promise<void> {
  const pgDump = onPath('pg_dump', env);
  if (!pgDump)
    throw new SlipwayError('Unsupported', `pg_dump is not on PATH. ${USE_POSTGRES_TOOLS}`, {
      hint: "Install PostgreSQL's client tools (Debian: postgresql-client) matching the server's version, or back the database up with them yourself.",
    });
  await run(pgDump, ['--format=custom', '--no-owner', '--no-privileges', `--file=${file}`], url, env, 'pg_dump');
}

/** `slipway restore` into a PostgreSQL store: pg_restore, replacing what the database holds, in one transaction. */
export async function restorePostgres(
  url: string,
  file: string,
  env: Record<string, string | undefined> = process.env,
): Promise<void> {
  const pgRestore = onPath('pg_restore', env);
  if (!pgRestore) {
    throw new SlipwayError(
      'Unsupported',
      `pg_restore is not on PATH, so the backup's ${PG_DUMP_FILE} cannot be restored here; nothing was restored`,
      {
        hint: `Install PostgreSQL's client tools (Debian: postgresql-client), or run: pg_restore --clean --if-exists --no-owner --single-transaction --dbname=URL ${PG_DUMP_FILE}`,
      },
    );
  }
  await run(
    pgRestore,
    ['--clean', '--if-exists', '--no-owner', '--no-privileges', '--single-transaction', file],
    url,
    env,
    'pg_restore',
  );
}

/** The newest migration a PostgreSQL store has applied (null for an empty database). */
export async function postgresMigrationLevel(url: string): Promise<string | null> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    const exists = await client.query(
      "select 1 from pg_tables where schemaname = current_schema() and tablename = 'kysely_migration'",
    );
    if (!exists.rowCount) return null;
    const { rows } = await client.query<{ name: string | null }>('select max(name) as name from kysely_migration');
    return rows[0]?.name ?? null;
  } finally {
    await client.end();
  }
}
