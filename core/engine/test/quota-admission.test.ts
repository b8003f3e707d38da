import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SlipwayError } from '@slipway/contracts';
import { createStore, PlanCatalog, QuotaService, SystemClock, type Store } from '../src/index.js';
import type { PlanConfig, SlipwayConfig } from '../src/config/schema.js';

const clock = new SystemClock();
const plan = {
  name: 'small',
  iaas: 'sandbox',
  master_instances: 1,
  worker_instances: 1,
  max_worker_instances: 5,
  master_vm: { cpu: 2, memory_mb: 4096, ephemeral_disk_mb: 1024 },
  worker_vm: { cpu: 4, memory_mb: 8192, ephemeral_disk_mb: 1024 },
} as PlanConfig;
const ann = { id: 7, name: 'ann', roles: ['clusters.manage'] as const };

let dir: string;
let store: Store;
let quotas: QuotaService;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'slipway-quota-'));
  store = await createStore(join(dir, 'slipway.db'));
  const config = { plans: [plan], kubernetes: { default_version: '1.31.4' } } as unknown as SlipwayConfig;
  quotas = new QuotaService(store, new PlanCatalog(config, store, clock), clock);
});
afterEach(async () => {
  await store.db.destroy();
  rmSync(dir, { recursive: true, force: true });
});

/** The insert a create makes, slow as it is on a database across the network: time for a rival to check. */
async function insertCluster(name: string): Promise<string> {
  await sleep(30);
  const now = new Date().toISOString();
  await store.clusters.insert({
    uuid: `uuid-${name}`,
    name,
    owner: ann.name,
    owner_id: ann.id,
    plan_name: plan.name,
    iaas: 'sandbox',
    external_hostname: `${name}.example.test`,
    k8s_version: '1.31.4',
    stemcell: 'ubuntu-jammy/1.600',
    master_instances: 1,
    worker_instances: 1,
    api_address: null,
    status: 'active',
    live: 1,
    created_at: now,
    updated_at: now,
    network_profile: null,
  });
  return name;
}

describe('quota admission', () => {
  it('lets one of three racing creates take the last slot, however slow the insert', async () => {
    await store.db
      .insertInto('quotas')
      .values({
        owner: 'ann',
        clusters: 2,
        cpu: null,
        memory_mb: null,
        created_by: 'admin',
        created_at: 'now',
        updated_at: 'now',
      })
      .execute();
    await quotas.admit(ann, { action: 'create', cluster: 'a', plan, masters: 1, workers: 1 }, () => insertCluster('a'));
    const racing = await Promise.allSettled(
      ['b', 'c', 'd'].map((name) =>
        quotas.admit(ann, { action: 'create', cluster: name, plan, masters: 1, workers: 1 }, () => insertCluster(name)),
      ),
    );
    expect(racing.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of racing.filter((x): x is PromiseRejectedResult => x.status === 'rejected')) {
      expect(SlipwayError.from(r.reason).code).toBe('QuotaExceeded');
    }
    const rows = await store.db.selectFrom('clusters').select('name').where('owner_id', '=', ann.id).execute();
    expect(rows).toHaveLength(2);
  });

  it('refuses a resize past the CPU limit, and lets a shrink through even over the quota', async () => {
    await insertCluster('a');
    await store.db
      .insertInto('quotas')
      .values({
        owner: 'ann',
        clusters: null,
        cpu: 6,
        memory_mb: null,
        created_by: 'admin',
        created_at: 'now',
        updated_at: 'now',
      })
      .execute();
    // 2 + 4 = 6 CPUs in use: one more worker is refused, naming the CPU limit and what the resize needs.
    const grow = quotas.admit(
      ann,
      { action: 'resize', cluster: 'a', uuid: 'uuid-a', plan, masters: 1, workers: 2 },
      async () => 'resized',
    );
    await expect(grow).rejects.toThrow(
      'cpu limit 6 CPUs: 6 CPUs in use, resizing cluster "a" to 2 workers on plan "small" needs 10 CPUs in total',
    );
    // Over the quota already (lowered under it): shrinking is still allowed.
    await store.db.updateTable('quotas').set({ cpu: 2 }).execute();
    await expect(
      quotas.admit(
        ann,
        { action: 'resize', cluster: 'a', uuid: 'uuid-a', plan, masters: 1, workers: 0 },
        async () => 'shrunk',
      ),
    ).resolves.toBe('shrunk');
  });

  it("prices a plan change at the new plan's VM types, and exempts admins", async () => {
    await insertCluster('a');
    await store.db
      .insertInto('quotas')
      .values({
        owner: 'ann',
        clusters: null,
        cpu: null,
        memory_mb: 16 * 1024,
        created_by: 'admin',
        created_at: 'now',
        updated_at: 'now',
      })
      .execute();
    const big = { ...plan, name: 'big', worker_vm: { cpu: 8, memory_mb: 32 * 1024, ephemeral_disk_mb: 1024 } };
    // 4 GB of master + 32 GB of worker on the new plan, against 12 GB now and a 16 GB limit.
    await expect(
      quotas.admit(
        ann,
        { action: 'update', cluster: 'a', uuid: 'uuid-a', plan: big, masters: 1, workers: 1 },
        async () => 'updated',
      ),
    ).rejects.toThrow(
      'memory limit 16 GB: 12 GB in use, updating cluster "a" to 1 worker on plan "big" needs 36 GB in total',
    );
    await expect(
      quotas.admit(
        { ...ann, roles: ['clusters.admin'] },
        { action: 'update', cluster: 'a', uuid: 'uuid-a', plan: big, masters: 1, workers: 1 },
        async () => 'updated',
      ),
    ).resolves.toBe('updated');
  });
});
