import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCredhubProvider } from '@slipway/credentials-credhub';
import { storeMatrix } from '@slipway/testkit/store-matrix';
import { createStore, restoreBackup, takeBackup } from '../src/index.js';
import { DEFAULT_CONFIG_YAML } from '../src/config/default-config.js';
import { onPath } from '../src/backup/postgres-dump.js';
import { pluginDatabases } from '../src/store/plugin-database.js';

const postgres = (await storeMatrix()).find((t) => t.dialect === 'postgres')!;
const skip =
  postgres.skip ||
  (!onPath('pg_dump') || !onPath('pg_restore')
    ? 'pg_dump and pg_restore are not on PATH (Debian: postgresql-client)'
    : false);
const engine = { actor: 'slipway:engine' };

describe.skipIf(skip)(`slipway backup and restore of a PostgreSQL store${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let dir: string;
  let url: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'slipway-pg-backup-'));
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await postgres.dispose();
  });

  /** A home whose slipway.yaml points its store at the test database. */
  function home(name: string): { home: string; configPath: string } {
    const path = join(dir, name);
    const configPath = join(dir, `${name}.yaml`);
    writeFileSync(configPath, `${DEFAULT_CONFIG_YAML}\nstore:\n  url: ${url}\n`);
    return { home: path, configPath };
  }

  it('dumps the database with pg_dump (credentials included) and puts it back with pg_restore', async () => {
    url = await postgres.fresh({ schema: true });
    const keysDir = join(dir, 'keys');
    const store = await createStore(url);
    await store.users.insert({
      name: 'alice',
      password_hash: 'x',
      roles: '["clusters.manage"]',
      created_at: new Date().toISOString(),
    });
    const credentials = await openCredhubProvider({
      dataDir: join(dir, 'data'),
      keysDir,
      rsaPoolSize: 0,
      database: await pluginDatabases(store.db)('credhub'),
    });
    await credentials.set({ name: '/slipway/iaas/aws', type: 'value', value: 'kept-in-the-dump' }, engine);
    await credentials.destroy();
    await store.db.destroy();

    const source = home('source');
    const to = join(dir, 'backup');
    const manifest = await takeBackup({ ...source, to, version: 'test' });
    expect(manifest.store).toMatchObject({ engine: 'postgres', file: 'slipway.pgdump' });
    expect(manifest.store.migration).toMatch(/^00\d\d_/);
    // pg_dump's custom format, and the password of the URL nowhere in the backup's text files.
    expect(readFileSync(join(to, 'slipway.pgdump')).subarray(0, 5).toString()).toBe('PGDMP');
    expect(readFileSync(join(to, 'manifest.json'), 'utf8')).not.toContain(new URL(url).password);

    // The database is lost; the backup brings it back into an empty one.
    url = await postgres.fresh({ schema: true });
    const target = home('restored');
    const result = await restoreBackup({
      from: to,
      home: target.home,
      configPath: target.configPath,
      keysDir,
      env: process.env,
    });
    expect(result.restored).toContain('slipway.pgdump');
    expect(existsSync(join(target.home, 'slipway.db')), 'no SQLite file is made for a PostgreSQL store').toBe(false);
    const back = await createStore(url);
    try {
      expect((await back.users.byName('alice'))?.name).toBe('alice');
      const again = await openCredhubProvider({
        dataDir: join(dir, 'data2'),
        keysDir,
        rsaPoolSize: 0,
        database: await pluginDatabases(back.db)('credhub'),
      });
      expect((await again.get('/slipway/iaas/aws', engine)).value).toBe('kept-in-the-dump');
      await again.destroy();
    } finally {
      await back.db.destroy();
    }
    // A second restore onto the now populated database is refused without --force.
    await expect(
      restoreBackup({ from: to, home: join(dir, 'third'), configPath: target.configPath, keysDir, env: process.env }),
    ).rejects.toMatchObject({ code: 'AlreadyExists' });
  });

  it("without pg_dump on PATH, says to use PostgreSQL's own tools", async () => {
    url = await postgres.fresh();
    (await createStore(url)).db.destroy();
    const source = home('no-tools');
    await expect(
      takeBackup({ ...source, to: join(dir, 'refused'), version: 'test', env: { ...process.env, PATH: '' } }),
    ).rejects.toMatchObject({ code: 'Unsupported', message: expect.stringContaining("PostgreSQL's own tools") });
  });
});
