import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SlipwayError } from '@slipway/contracts';
import {
  chooseAdvertiseUrl,
  createStore,
  extraListenerFor,
  HomeLock,
  validateConfig,
  type SlipwayConfig,
  type Store,
} from '../src/index.js';

const dirs: string[] = [];
const stores: Store[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.db.destroy();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function temp(): string {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-home-'));
  dirs.push(dir);
  return dir;
}

function configWith(api: Record<string, unknown>): SlipwayConfig {
  const { config, errors } = validateConfig({
    api,
    iaas: [{ name: 'sandbox', plugin: '@slipway/iaas-sandbox' }],
    plans: [
      {
        name: 'p',
        iaas: 'sandbox',
        master_instances: 1,
        worker_instances: 1,
        max_worker_instances: 2,
        master_vm: { cpu: 1, memory_mb: 512, ephemeral_disk_mb: 1024 },
        worker_vm: { cpu: 1, memory_mb: 512, ephemeral_disk_mb: 1024 },
        kubernetes: { require_api: false },
      },
    ],
  });
  if (!config) throw new Error(errors.join('\n'));
  return config;
}

async function storeIn(dir: string): Promise<Store> {
  const store = await createStore(join(dir, 'slipway.db'));
  stores.push(store);
  return store;
}

async function addVm(store: Store): Promise<void> {
  const now = new Date().toISOString();
  await store.db
    .insertInto('clusters')
    .values({
      uuid: 'c1',
      name: 'c',
      owner: 'admin',
      plan_name: 'p',
      iaas: 'sandbox',
      external_hostname: 'c.example.test',
      k8s_version: '1.31.4',
      stemcell: 'ubuntu-jammy/1.600',
      master_instances: 1,
      worker_instances: 1,
      api_address: null,
      status: 'active',
      live: 1,
      created_at: now,
      updated_at: now,
    })
    .execute();
  await store.instances.insert([
    {
      id: 'i1',
      cluster_uuid: 'c1',
      group_name: 'master',
      idx: 0,
      agent_id: 'a1',
      vm_cid: 'vm-1',
      ip: '10.0.0.2',
      zone: 'z1',
      desired: 'present',
      state: 'running',
      last_heartbeat_at: now,
      processes: null,
      desired_generation: 1,
      applied_generation: 1,
      drained: 0,
      mounted_disk_cid: null,
      created_at: now,
      updated_at: now,
    },
  ]);
}

describe('one process per home', () => {
  it("refuses a second holder naming the first one's pid, and takes the lock again once released", () => {
    const home = temp();
    const first = HomeLock.acquire(home, 'slipway up');
    let refused: unknown;
    try {
      HomeLock.acquire(home, 'slipway restore');
    } catch (e) {
      refused = e;
    }
    expect(SlipwayError.is(refused, 'Conflict')).toBe(true);
    expect((refused as Error).message).toBe(
      `slipway restore refused: slipway up (pid ${process.pid}, since ${(JSON.parse(readFileSync(join(home, 'slipway.pid'), 'utf8')) as { started_at: string }).started_at}) is running on home ${home}`,
    );
    first.release();
    const second = HomeLock.acquire(home, 'slipway up');
    second.release();
  });

  it('is not fooled by a pid file left behind: only the lock decides', () => {
    const home = temp();
    writeFileSync(
      join(home, 'slipway.pid'),
      JSON.stringify({ pid: 1, started_at: '2020-01-01T00:00:00Z', purpose: 'slipway up' }),
    );
    const lock = HomeLock.acquire(home, 'slipway up');
    lock.release();
    expect((statSync(join(home, 'slipway.lock')).mode & 0o777).toString(8)).toBe('600');
  });
});

describe('the URL agents dial', () => {
  it("keeps the first start's URL while VMs exist, follows the listener when none do, and lets the config override", async () => {
    const store = await storeIn(temp());
    const plain = configWith({});
    expect(await chooseAdvertiseUrl(store, plain, 'https://127.0.0.1:9021')).toEqual({
      url: 'https://127.0.0.1:9021',
      source: 'this-start',
    });
    // No VM yet: a restart elsewhere simply advertises the new URL.
    expect((await chooseAdvertiseUrl(store, plain, 'https://127.0.0.1:9500')).url).toBe('https://127.0.0.1:9500');
    await addVm(store);
    expect(await chooseAdvertiseUrl(store, plain, 'https://127.0.0.1:9600')).toEqual({
      url: 'https://127.0.0.1:9500',
      source: 'previous',
    });
    const lb = configWith({ advertise_url: 'https://slipway.example.test:443' });
    expect(await chooseAdvertiseUrl(store, lb, 'https://127.0.0.1:9600')).toEqual({
      url: 'https://slipway.example.test:443',
      source: 'config',
      previous: 'https://127.0.0.1:9500',
    });
    // Once configured it is kept, even after the line leaves the config, for as long as VMs exist.
    expect((await chooseAdvertiseUrl(store, plain, 'https://127.0.0.1:9700')).url).toBe(
      'https://slipway.example.test:443',
    );
  });

  it("serves an advertised URL of this machine that the listener does not cover, and leaves other hosts to the operator's routing", () => {
    const local = configWith({ bind: '127.0.0.1' });
    expect(extraListenerFor('https://127.0.0.1:9021', local, { host: '127.0.0.1', port: 9500 })).toEqual({
      host: '127.0.0.1',
      port: 9021,
    });
    expect(extraListenerFor('https://127.0.0.1:9500', local, { host: '127.0.0.1', port: 9500 })).toBeUndefined();
    expect(extraListenerFor('https://localhost:9021', local, { host: '127.0.0.1', port: 9500 })).toEqual({
      host: '127.0.0.1',
      port: 9021,
    });
    expect(
      extraListenerFor('https://slipway.example.test:9021', local, { host: '127.0.0.1', port: 9500 }),
    ).toBeUndefined();
    const wildcard = configWith({ bind: '0.0.0.0' });
    expect(extraListenerFor('https://10.0.0.5:9021', wildcard, { host: '0.0.0.0', port: 9021 })).toBeUndefined();
    expect(extraListenerFor('https://10.0.0.5:9021', wildcard, { host: '0.0.0.0', port: 9500 })).toEqual({
      host: '10.0.0.5',
      port: 9021,
    });
  });
});
