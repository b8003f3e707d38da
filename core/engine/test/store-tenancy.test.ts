import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Sqlite from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { createStore } from '../src/store/index.js';
import { migrationProvider } from '../src/store/migrations.js';

const dirs: string[] = [];
afterEach(() => {
  while (dirs.length) rmSync(dirs.pop()!, { recursive: true, force: true });
});

function tempFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-store-'));
  dirs.push(dir);
  return join(dir, 'slipway.db');
}

const cluster = (uuid: string, name: string, owner: string, createdAt: string) => ({
  uuid,
  name,
  owner,
  plan_name: 'small',
  iaas: 'sandbox',
  external_hostname: `${name}.example.test`,
  k8s_version: '1.30.0',
  stemcell: 's/1',
  master_instances: 1,
  worker_instances: 1,
  api_address: null,
  status: 'active',
  live: 1,
  created_at: createdAt,
  updated_at: createdAt,
});

describe('the store after 0005_tenancy', () => {
  it('gives existing clusters their owner by id, and none to a cluster older than the user now holding its name', async () => {
    const file = tempFile();
    // A store as the previous release left it: owners by name, and "carol" deleted then created again.
    const db = new Kysely<any>({ dialect: new SqliteDialect({ database: new Sqlite(file) }) });
    expect(
      (await new Migrator({ db, provider: migrationProvider }).migrateTo('0003_mounted_disk_event_age')).error,
    ).toBeUndefined();
    const user = (name: string, createdAt: string) => ({
      name,
      password_hash: 'x',
      roles: '["clusters.manage"]',
      created_at: createdAt,
    });
    await db
      .insertInto('users')
      .values([user('alice', '2026-01-01T00:00:00.000Z'), user('carol', '2026-06-01T00:00:00.000Z')])
      .execute();
    await db
      .insertInto('clusters')
      .values([
        cluster('u-1', 'web', 'alice', '2026-02-01T00:00:00.000Z'),
        cluster('u-2', 'old', 'carol', '2026-03-01T00:00:00.000Z'),
        cluster('u-3', 'gone', 'dave', '2026-03-01T00:00:00.000Z'),
      ])
      .execute();
    await db.destroy();

    const store = await createStore(file);
    try {
      const alice = (await store.users.byName('alice'))!;
      expect((await store.clusters.findByUuid('u-1'))?.owner_id).toBe(alice.id);
      // The carol of today was created after "old": it belonged to an earlier carol and keeps no owner.
      expect((await store.clusters.findByUuid('u-2'))?.owner_id).toBeNull();
      expect((await store.clusters.findByUuid('u-3'))?.owner_id).toBeNull();
      expect((await store.clusters.list((await store.users.byName('carol'))!.id)).map((c) => c.name)).toEqual([]);

      // Names are unique per owner: another owner may use "web", the same owner may not.
      const now = new Date().toISOString();
      expect(
        await store.clusters.insert({ ...cluster('u-4', 'web', 'carol', now), owner_id: 99, status: 'active' }),
      ).toBe(true);
      expect(
        await store.clusters.insert({ ...cluster('u-5', 'web', 'alice', now), owner_id: alice.id, status: 'active' }),
      ).toBe(false);
      expect((await store.clusters.findAllByName('web')).map((c) => c.uuid).sort()).toEqual(['u-1', 'u-4']);

      // Ids are never reused: a user created after deleting the newest one gets a new id.
      const newest = (await store.users.list()).reduce((a, b) => (a.id > b.id ? a : b));
      await store.users.removeById(newest.id);
      expect(await store.users.insert(user('erin', now))).toBe(true);
      expect((await store.users.byName('erin'))!.id).toBeGreaterThan(newest.id);
      expect(await store.users.insert(user('erin', now))).toBe(false);
    } finally {
      await store.db.destroy();
    }
  });
});
