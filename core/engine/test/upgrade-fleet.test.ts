import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, startHarness, testConfig, type Harness } from './health-harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness(
    testConfig({
      health: '{ agent_timeout_seconds: 30, analyze_interval_seconds: 0.2, cloud_check_interval_seconds: 0.3 }',
      plans: `
  - name: old
    iaas: sandbox
    master_instances: 1
    worker_instances: 1
    kubernetes_version: 1.30.8
    master_vm: { cpu: 2, memory_mb: 4096, ephemeral_disk_mb: 16384, persistent_disk_mb: 10240 }
    worker_vm: { cpu: 2, memory_mb: 8192, ephemeral_disk_mb: 32768, persistent_disk_mb: 20480 }
    kubernetes: { require_api: false }
    update: { canary_watch_time: "20-5000", update_watch_time: "20-5000" }`,
    }),
  );
  for (const name of ['f1', 'f2', 'f3']) await h.createCluster(name, 'old');
}, 120_000);
afterAll(async () => h?.stop());

describe('fleet upgrade', () => {
  it('upgrades every cluster, the canary alone first, then at most max_in_flight at once, with a result per cluster', async () => {
    let mostAtOnce = 0;
    let canaryAloneFirst = true;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const active = await h.store.db
          .selectFrom('tasks')
          .select(['cluster_name', 'type'])
          .where('type', '=', 'UPGRADE')
          .where('state', 'in', ['queued', 'processing'])
          .execute();
        mostAtOnce = Math.max(mostAtOnce, active.length);
        const f1 = await h.store.db
          .selectFrom('tasks')
          .select('state')
          .where('cluster_name', '=', 'f1')
          .where('type', '=', 'UPGRADE')
          .executeTakeFirst();
        if (active.some((t) => t.cluster_name !== 'f1') && f1?.state !== 'done') canaryAloneFirst = false;
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    const job = await h.services.upgrades.startFleet(ADMIN, {
      all: true,
      canaries: 1,
      max_in_flight: 2,
      kubernetes_version: '1.31.4',
    });
    expect(job.clusters.map((c) => `${c.cluster_name}:${c.is_canary}`)).toEqual(['f1:true', 'f2:false', 'f3:false']);
    const done = await h.services.upgrades.settledFleet(job.id);
    sampling = false;
    await sampler;
    expect(done.state, JSON.stringify(done)).toBe('done');
    expect(done.clusters.map((c) => c.state)).toEqual(['succeeded', 'succeeded', 'succeeded']);
    expect(done.summary).toMatchObject({ succeeded: 3, failed: 0 });
    expect(mostAtOnce).toBeLessThanOrEqual(2);
    expect(mostAtOnce).toBe(2);
    expect(canaryAloneFirst).toBe(true);
    for (const name of ['f1', 'f2', 'f3']) expect((await h.cluster(name)).k8s_version).toBe('1.31.4');

    // Run again: nothing to do, each cluster says why it was skipped.
    const again = await h.services.upgrades.settledFleet(
      (
        await h.services.upgrades.startFleet(ADMIN, {
          clusters: ['f1', 'f2'],
          kubernetes_version: '1.31.4',
          stemcell: 'ubuntu-jammy/1.600',
        })
      ).id,
    );
    expect(again.state).toBe('done');
    expect(again.clusters.map((c) => c.state)).toEqual(['skipped', 'skipped']);
    expect(again.clusters[0]!.detail).toBe(
      'cluster "f1" already runs Kubernetes 1.31.4 on ubuntu-jammy/1.600; nothing to upgrade',
    );
  }, 120_000);

  it('stops the rest when a canary cluster fails', async () => {
    h.rehearsal().failNext('createVm', {
      code: 'VmCreationFailed',
      message: 'createVm: image ubuntu-jammy/1.601 is not bootable (injected)',
    });
    const job = await h.services.upgrades.startFleet(ADMIN, {
      clusters: ['f1', 'f2', 'f3'],
      canaries: ['f2'],
      max_in_flight: 3,
      stemcell: 'ubuntu-jammy/1.601',
    });
    const done = await h.services.upgrades.settledFleet(job.id);
    expect(done.state).toBe('failed');
    expect(done.error).toBe('canary cluster f2 failed; the other clusters were not upgraded');
    const byName = Object.fromEntries(done.clusters.map((c) => [c.cluster_name, c]));
    expect(byName.f2).toMatchObject({ is_canary: true, state: 'failed' });
    expect(byName.f2!.detail).toMatch(/not bootable/);
    expect(byName.f1).toMatchObject({ state: 'skipped', detail: 'not started: canary f2 failed', task_id: null });
    expect(byName.f3).toMatchObject({ state: 'skipped' });
    expect((await h.cluster('f1')).stemcell).toBe('ubuntu-jammy/1.600');
  }, 60_000);

  it('goes on after a restart of the control plane', async () => {
    const job = await h.services.upgrades.startFleet(ADMIN, {
      clusters: ['f1', 'f3'],
      max_in_flight: 1,
      stemcell: 'ubuntu-jammy/1.601',
    });
    await h.waitFor(
      'the first cluster to be upgrading',
      async () => (await h.services.upgrades.getFleet(ADMIN, job.id)).clusters[0]!.state === 'in progress',
    );
    await h.restart();
    const done = await h.waitFor(
      'the fleet upgrade to end',
      async () => {
        const j = await h.services.upgrades.getFleet(ADMIN, job.id);
        return ['done', 'failed', 'cancelled'].includes(j.state) ? j : undefined;
      },
      60_000,
    );
    expect(done.state, JSON.stringify(done)).toBe('done');
    expect(done.clusters.map((c) => c.state)).toEqual(['succeeded', 'succeeded']);
    expect((await h.cluster('f3')).stemcell).toBe('ubuntu-jammy/1.601');
  }, 90_000);
});
