import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, startHarness, testConfig, type Harness } from './health-harness.js';

let h: Harness;
beforeAll(async () => {
  // A longer agent timeout than the other files: this test compares exact problem lists, and a heartbeat
  // late by a second on a loaded machine would add an unresponsive agent to them.
  h = await startHarness(
    testConfig({
      health: '{ agent_timeout_seconds: 3, analyze_interval_seconds: 0.2, cloud_check_interval_seconds: 0.5 }',
    }),
  );
}, 60_000);
afterAll(async () => h?.stop());

describe('slipway doctor: the cloud check', () => {
  it('finds what a crash left behind and what the cloud lost, and applies the chosen fixes', async () => {
    const cluster = await h.createCluster('clinic', 'small', 2);
    await h.services.health.setResurrection(ADMIN, 'clinic', false);
    const driver = h.engine.plugins.iaasTarget('sandbox').driver;
    const rows = await h.instances('clinic');
    const [w0, w1] = rows.filter((r) => r.group_name === 'worker');
    const master = rows.find((r) => r.group_name === 'master')!;
    const stemcell = (await h.store.db.selectFrom('stemcells').select('stemcell_cid').executeTakeFirstOrThrow())
      .stemcell_cid;

    // A crash leftover: a VM and a disk created with the cluster's tags that the store never recorded.
    const tags = {
      'slipway.cluster': 'clinic',
      'slipway.cluster_uuid': cluster.uuid,
      'slipway.instance': 'worker/9',
      'slipway.instance_id': 'lost',
    };
    const orphanVm = await driver.createVm({
      agentId: 'orphan-agent',
      stemcellId: stemcell,
      resources: { cpu: 1, memoryMb: 1024, ephemeralDiskMb: 2048 },
      network: { ip: '10.41.0.250' },
      env: {
        agentId: 'orphan-agent',
        clusterId: cluster.uuid,
        instanceId: 'lost',
        group: 'worker',
        index: 9,
        controlPlane: { url: 'https://127.0.0.1:1', caPem: '' },
        bootstrap: { token: '', expiresAt: '' },
        network: { ip: '10.41.0.250' },
        heartbeatIntervalMs: 60_000,
      },
      metadata: tags,
    });
    const orphanDisk = await driver.createDisk({
      sizeMb: 1024,
      metadata: { 'slipway.cluster_uuid': cluster.uuid, 'slipway.instance_id': 'lost' },
    });
    // A disk that came off its VM behind the control plane's back, and a VM the cloud lost.
    const w0disk = (await h.store.instances.diskOf(w0!.id))!;
    await h.rehearsal().detachDisk(w0disk.disk_cid!);
    await h.rehearsal().killVm(w1!.vm_cid!);
    await h.waitFor('worker/1 missing', async () => (await h.store.instances.get(w1!.id))?.state === 'missing');

    const report = await h.services.health.check(ADMIN, 'clinic');
    expect(report.inventory).toBe(true);
    const byType = Object.fromEntries(report.problems.map((p) => [p.type, p]));
    expect(Object.keys(byType).sort()).toEqual(['disk_not_attached', 'missing_vm', 'orphan_disk', 'orphan_vm']);
    expect(byType.orphan_vm).toMatchObject({
      id: `vm:${orphanVm.vmId}`,
      default_resolution: 'delete_vm',
      instance: 'worker/9',
    });
    expect(byType.orphan_disk).toMatchObject({ id: `disk:${orphanDisk.diskId}`, default_resolution: 'delete_disk' });
    expect(byType.disk_not_attached).toMatchObject({
      instance: 'worker/0',
      disk_cid: w0disk.disk_cid,
      default_resolution: 'reattach_disk',
    });
    expect(byType.missing_vm).toMatchObject({
      instance: 'worker/1',
      vm_cid: w1!.vm_cid,
      resolutions: ['recreate_vm', 'ignore'],
    });
    expect(byType.missing_vm!.description).toBe(`worker/1: VM ${w1!.vm_cid} is in the store but not in the cloud`);

    // Keep the orphan disk on purpose; take the defaults for the rest.
    const { task } = await h.services.health.repair(ADMIN, 'clinic', {
      auto: true,
      resolutions: { [`disk:${orphanDisk.diskId}`]: 'ignore' },
    });
    expect(task).not.toBeNull();
    const done = await h.settle(task!.id);
    expect(done.state, done.error ?? '').toBe('done');
    expect(done.type).toBe('REPAIR');

    const inventory = await h.rehearsal().inventory();
    expect(inventory.vms.some((v) => v.vmId === orphanVm.vmId)).toBe(false);
    expect(inventory.disks.some((d) => d.diskId === orphanDisk.diskId)).toBe(true);
    expect(inventory.disks.find((d) => d.diskId === w0disk.disk_cid)?.vmId).toBe(w0!.vm_cid);
    const recreated = (await h.store.instances.get(w1!.id))!;
    expect(recreated.state).toBe('running');
    expect(recreated.vm_cid).not.toBe(w1!.vm_cid);
    const w1disk = (await h.store.instances.diskOf(w1!.id))!;
    expect(inventory.disks.find((d) => d.diskId === w1disk.disk_cid)?.vmId).toBe(recreated.vm_cid);

    const again = await h.services.health.check(ADMIN, 'clinic');
    expect(again.problems.map((p) => p.type)).toEqual(['orphan_disk']);
    expect(
      (await h.services.health.health(ADMIN, 'clinic')).incidents.find((i) => i.instance === 'worker/1')?.resolution,
    ).toBe('repaired');
    expect(master.state).toBe('running');
  });

  it('refuses a fix that does not fit the problem, and a problem id it does not find, naming both', async () => {
    const report = await h.services.health.check(ADMIN, 'clinic');
    const disk = report.problems[0]!;
    await expect(
      h.services.health.repair(ADMIN, 'clinic', { resolutions: { [disk.id]: 'recreate_vm' } }),
    ).rejects.toThrow(/recreate_vm does not fix "disk:.+" \(orphan_disk\); choose one of delete_disk, ignore/);
    await expect(
      h.services.health.repair(ADMIN, 'clinic', { resolutions: { 'vm:nope': 'delete_vm' } }),
    ).rejects.toThrow(/no current problem "vm:nope"; the cloud check finds: disk:/);
    const nothing = await h.services.health.repair(ADMIN, 'clinic', { resolutions: { [disk.id]: 'ignore' } });
    expect(nothing.task).toBeNull();
  });
});
