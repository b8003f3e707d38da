import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { openCredhubProvider } from '@slipway/credentials-credhub';
import flat from '@slipway/network-flat';
import type { NetworkDriver, PluginHost } from '@slipway/contracts';
import { storeMatrix } from '@slipway/testkit/store-matrix';
import { createStore, type Store } from '../src/index.js';
import { pluginDatabases } from '../src/store/plugin-database.js';

const engine = { actor: 'slipway:engine' };

/** The credential store's tables in the shared database, as the database itself lists them. */
async function credhubTables(store: Store): Promise<string[]> {
  const tables = await store.db.introspection.getTables();
  return tables
    .map((t) => t.name)
    .filter((n) => n.startsWith('credhub_'))
    .sort();
}

for (const target of await storeMatrix())
  describe.skipIf(target.skip)(`the credential store in the control plane's database, on ${target.title}`, () => {
    let store: Store;
    let dir: string;
    beforeEach(async () => {
      store = await createStore(await target.fresh());
      dir = mkdtempSync(join(tmpdir(), 'slipway-plugin-db-'));
    });
    afterEach(async () => {
      await store.db.destroy();
      rmSync(dir, { recursive: true, force: true });
    });
    afterAll(() => target.dispose());

    /** The credential store as an earlier version ran it: its own credhub.db in its data directory. */
    const openOwnFile = (dataDir: string) =>
      openCredhubProvider({ dataDir, keysDir: join(dir, 'keys'), rsaPoolSize: 0 });

    it('keeps credentials in its own prefixed tables, sealed, and finds them again after a restart', async () => {
      const database = await pluginDatabases(store.db)('credhub');
      const first = await openCredhubProvider({
        dataDir: join(dir, 'data'),
        keysDir: join(dir, 'keys'),
        rsaPoolSize: 0,
        database,
      });
      await first.set(
        { name: '/slipway/iaas/aws', type: 'json', value: { secret_access_key: 'wJalr-not-a-real-key' } },
        engine,
      );
      await first.set({ name: '/slipway/other', type: 'password', value: 'hunter2-hunter2' }, engine);
      await first.destroy();
      // The host's database stays open: the plugin does not own it.
      expect(await store.clusters.countLive()).toBe(0);
      expect(await credhubTables(store)).toEqual(
        expect.arrayContaining([
          'credhub_audit_events',
          'credhub_credential_versions',
          'credhub_credentials',
          'credhub_permissions',
        ]),
      );
      expect(existsSync(join(dir, 'data', 'credhub.db')), 'no file of its own').toBe(false);
      // Sealed at rest: the secret's bytes are nowhere in the table.
      const raw = await sql<{ sealed: Buffer }>`select sealed from credhub_credential_versions`.execute(store.db);
      expect(raw.rows).toHaveLength(2);
      expect(raw.rows.every((r) => Buffer.isBuffer(r.sealed) && !r.sealed.includes('wJalr'))).toBe(true);

      const again = await openCredhubProvider({
        dataDir: join(dir, 'data'),
        keysDir: join(dir, 'keys'),
        rsaPoolSize: 0,
        database: await pluginDatabases(store.db)('credhub'),
      });
      try {
        expect((await again.get('/slipway/iaas/aws', engine)).value).toEqual({
          secret_access_key: 'wJalr-not-a-real-key',
        });
        expect((await again.findCredentials({ nameLike: 'IAAS' }, engine)).map((c) => c.name)).toEqual([
          '/slipway/iaas/aws',
        ]);
        const next = await again.set({ name: '/slipway/other', type: 'password', value: 'a-newer-password' }, engine);
        expect((await again.get('/slipway/other', engine)).id).toBe(next.id);
      } finally {
        await again.destroy();
      }
    });

    it('moves an existing credhub.db into the database once, and keeps the file as .migrated', async () => {
      const dataDir = join(dir, 'data');
      mkdirSync(dataDir);
      const legacy = await openOwnFile(dataDir);
      await legacy.set({ name: '/slipway/legacy', type: 'value', value: 'from-the-old-file' }, engine);
      await legacy.set({ name: '/slipway/legacy', type: 'value', value: 'second-version' }, engine);
      await legacy.destroy();
      expect(existsSync(join(dataDir, 'credhub.db'))).toBe(true);

      const moved = await openCredhubProvider({
        dataDir,
        keysDir: join(dir, 'keys'),
        rsaPoolSize: 0,
        database: await pluginDatabases(store.db)('credhub'),
      });
      try {
        expect(existsSync(join(dataDir, 'credhub.db'))).toBe(false);
        expect(existsSync(join(dataDir, 'credhub.db.migrated'))).toBe(true);
        expect((await moved.get('/slipway/legacy', engine)).value).toBe('second-version');
        expect(await moved.getAllVersions('/slipway/legacy', engine)).toHaveLength(2);
        // New versions number on after the imported ones (the identity moved past them).
        await moved.set({ name: '/slipway/legacy', type: 'value', value: 'third' }, engine);
        expect((await moved.get('/slipway/legacy', engine)).value).toBe('third');
      } finally {
        await moved.destroy();
      }
    });
  });

const quiet = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return quiet;
  },
};

for (const target of await storeMatrix())
  describe.skipIf(target.skip)(
    `the flat network's addresses in the control plane's database, on ${target.title}`,
    () => {
      let url: string;
      let dir: string;
      const stores: Store[] = [];
      const drivers: NetworkDriver[] = [];
      beforeEach(async () => {
        url = await target.fresh();
        dir = mkdtempSync(join(tmpdir(), 'slipway-flat-db-'));
      });
      afterEach(async () => {
        for (const d of drivers.splice(0)) await d.destroy();
        for (const s of stores.splice(0)) await s.db.destroy();
        rmSync(dir, { recursive: true, force: true });
      });
      afterAll(() => target.dispose());

      /** A control plane's flat network: its own store connection (SQLite: one per home, so shared). */
      async function replica(dataDir: string): Promise<NetworkDriver> {
        let store = stores[0];
        if (!store || target.dialect === 'postgres') stores.push((store = await createStore(url)));
        mkdirSync(dataDir, { recursive: true });
        const host: PluginHost = {
          logger: quiet,
          clock: { now: Date.now, sleep: async () => {} },
          dataDir,
          instanceName: 'default',
          database: pluginDatabases(store.db),
        };
        const driver = await flat.create({ ranges: { sandbox: { cidr: '192.168.9.0/24' } } } as never, host);
        drivers.push(driver);
        return driver;
      }

      it('never gives one address to two owners, even to two control planes allocating at once', async () => {
        const [a, b] = [await replica(join(dir, 'a')), await replica(join(dir, 'b'))];
        // Engine-style retries: a write that lost a race says Retryable and is run again.
        const allocate = async (net: NetworkDriver, owner: string) => {
          for (let attempt = 0; ; attempt++) {
            try {
              return await net.allocateAddress({ clusterId: 'c1', owner, iaas: 'sandbox' });
            } catch (e) {
              if ((e as { code?: string }).code !== 'Retryable' || attempt > 20) throw e;
            }
          }
        };
        const all = await Promise.all(Array.from({ length: 60 }, (_, i) => allocate(i % 2 ? a : b, `o${i}`)));
        expect(new Set(all.map((x) => x.ip)).size).toBe(60);
        // Either replica sees every allocation, and the same owner gets its address back from the other one.
        expect((await a.listAllocations!({ clusterId: 'c1' })).length).toBe(60);
        expect((await b.allocateAddress({ clusterId: 'c1', owner: 'o1', iaas: 'sandbox' })).ip).toBe(all[1].ip);
        // The database itself refuses a second row for one address.
        const row = (await stores[0].db
          .selectFrom('flat_allocations' as never)
          .selectAll()
          .limit(1)
          .executeTakeFirstOrThrow()) as Record<string, unknown>;
        await expect(
          stores[0].db
            .insertInto('flat_allocations' as never)
            .values({ ...row, owner: 'intruder' } as never)
            .execute(),
        ).rejects.toBeDefined();
      });

      it('moves an existing allocations.json into the database once, keeping the file as .migrated', async () => {
        const dataDir = join(dir, 'old');
        mkdirSync(dataDir);
        const host: PluginHost = {
          logger: quiet,
          clock: { now: Date.now, sleep: async () => {} },
          dataDir,
          instanceName: 'default',
        };
        const old = await flat.create({ ranges: { sandbox: { cidr: '192.168.9.0/24' } } } as never, host);
        const before = await old.allocateAddress({ clusterId: 'c1', owner: 'm0', iaas: 'sandbox' });
        await old.destroy();
        expect(existsSync(join(dataDir, 'allocations.json'))).toBe(true);

        const moved = await replica(dataDir);
        expect(existsSync(join(dataDir, 'allocations.json'))).toBe(false);
        expect(existsSync(join(dataDir, 'allocations.json.migrated'))).toBe(true);
        expect((await moved.allocateAddress({ clusterId: 'c1', owner: 'm0', iaas: 'sandbox' })).ip).toBe(before.ip);
        expect((await moved.allocateAddress({ clusterId: 'c1', owner: 'm1', iaas: 'sandbox' })).ip).not.toBe(before.ip);
      });
    },
  );
