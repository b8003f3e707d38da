import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Sqlite from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createStore,
  parseConfigText,
  parseStoreUrl,
  storeLocationOf,
  validateConfig,
  type SlipwayConfig,
} from '../src/index.js';
import { DEFAULT_CONFIG_YAML } from '../src/config/default-config.js';
import { migrationProvider } from '../src/store/migrations.js';

const dirs: string[] = [];
afterEach(() => {
  while (dirs.length) rmSync(dirs.pop()!, { recursive: true, force: true });
});
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'slipway-seam-'));
  dirs.push(d);
  return d;
};

const config = (extra: string) => validateConfig(parseConfigText(`${DEFAULT_CONFIG_YAML}\n${extra}`, 'slipway.yaml'));

describe('where the store lives', () => {
  it("is the home's slipway.db unless store.url or SLIPWAY_STORE_URL says otherwise, the variable first", () => {
    const plain = config('').config as SlipwayConfig;
    expect(storeLocationOf('/srv/home', plain, {})).toEqual({ dialect: 'sqlite', file: '/srv/home/slipway.db' });
    const pg = config('store: { url: "postgres://slipway:pw@db.example.test:5432/slipway" }').config as SlipwayConfig;
    expect(storeLocationOf('/srv/home', pg, {})).toEqual({
      dialect: 'postgres',
      url: 'postgres://slipway:pw@db.example.test:5432/slipway',
    });
    expect(storeLocationOf('/srv/home', pg, { SLIPWAY_STORE_URL: 'sqlite:state/other.db' })).toEqual({
      dialect: 'sqlite',
      file: '/srv/home/state/other.db',
    });
  });

  it('refuses a store URL it cannot use, naming the field and the forms it takes', () => {
    expect(config('store: { url: "mysql://db/slipway" }').errors.join('\n')).toMatch(/^store\.url: .*postgres:\/\//m);
    expect(() => parseStoreUrl('mysql://db/slipway', '/h', 'SLIPWAY_STORE_URL')).toThrow(
      /SLIPWAY_STORE_URL: unknown store "mysql"; use sqlite:PATH or postgres:/,
    );
    expect(() => parseStoreUrl('sqlite:', '/h')).toThrow(/store\.url: sqlite: needs a file path/);
  });
});

describe('a home made before 0015', () => {
  it('migrates: its oldest active task per cluster keeps running, and from then on the database allows one', async () => {
    const file = join(tempDir(), 'slipway.db');
    // The schema as the previous release left it, with a state only a bug could have made: two active tasks.
    const db = new Kysely<any>({ dialect: new SqliteDialect({ database: new Sqlite(file) }) });
    expect(
      (await new Migrator({ db, provider: migrationProvider }).migrateTo('0010_cluster_registry')).error,
    ).toBeUndefined();
    const task = (state: string) => ({
      type: 'UPDATE',
      cluster_uuid: 'c-1',
      cluster_name: 'demo',
      user: 'admin',
      state,
      description: 'resize',
      params: '{}',
      created_at: '2026-01-01T00:00:00.000Z',
    });
    await db
      .insertInto('tasks')
      .values([task('processing'), task('queued'), task('done')])
      .execute();
    await db.destroy();

    const store = await createStore(file);
    try {
      expect((await store.tasks.list({ limit: 10 })).map((t) => [t.id, t.state])).toEqual([
        [3, 'done'],
        [2, 'failed'],
        [1, 'processing'],
      ]);
      await expect(
        store.tasks.create({ ...task('queued'), waiting_for: null, error: null, started_at: null, ended_at: null }, []),
      ).rejects.toMatchObject({ code: 'SQLITE_CONSTRAINT_UNIQUE' });
      // Another cluster, or this one once its task ended, takes a new task.
      await store.tasks.update(1, { state: 'done' });
      expect(
        await store.tasks.create(
          { ...task('queued'), waiting_for: null, error: null, started_at: null, ended_at: null },
          [],
        ),
      ).toBe(4);
    } finally {
      await store.db.destroy();
    }
  });
});
