import { readdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InstanceRow } from '../src/index.js';
import { ADMIN, startHarness, testConfig, type Harness } from './health-harness.js';

const WATCH = `canary_watch_time: "50-5000", update_watch_time: "50-5000"`;
let h: Harness;
beforeAll(async () => {
  h = await startHarness(
    testConfig({
      // A long agent timeout: a hung agent here stays "running" to the monitor, so the roll tries to drain it.
      health: '{ agent_timeout_seconds: 30, analyze_interval_seconds: 0.2, cloud_check_interval_seconds: 0.3 }',
      iaas: `  - name: slowdisk
    plugin: "@slipway/iaas-sandbox"
    config: { boot_delay_ms: 30, latency_ms: { default: 2, detachDisk: 3000 } }`,
      network: '      slowdisk: { cidr: 10.42.0.0/24 }',
      plans: `
  - name: ha
    iaas: sandbox
    master_instances: 3
    worker_instances: 4
    kubernetes_version: 1.30.8
    master_vm: { cpu: 2, memory_mb: 4096, ephemeral_disk_mb: 16384, persistent_disk_mb: 10240 }
    worker_vm: { cpu: 2, memory_mb: 8192, ephemeral_disk_mb: 32768, persistent_disk_mb: 20480 }
    kubernetes: { require_api: false }
    update: { canaries: 1, max_in_flight: 2, ${WATCH} }
  - name: tight
    iaas: sandbox
    master_instances: 1
    worker_instances: 2
    kubernetes_version: 1.30.8
    master_vm: { cpu: 2, memory_mb: 4096, ephemeral_disk_mb: 16384, persistent_disk_mb: 10240 }
    worker_vm: { cpu: 2, memory_mb: 8192, ephemeral_disk_mb: 32768, persistent_disk_mb: 20480 }
    kubernetes: { require_api: false }
    update: { drain_timeout_seconds: 1, ${WATCH} }
  - name: big
    iaas: sandbox
    master_instances: 1
    worker_instances: 2
    master_vm: { cpu: 4, memory_mb: 8192, ephemeral_disk_mb: 16384, persistent_disk_mb: 10240 }
    worker_vm: { cpu: 8, memory_mb: 16384, ephemeral_disk_mb: 32768, persistent_disk_mb: 20480 }
    kubernetes: { require_api: false }
    update: { max_in_flight: 2, ${WATCH} }
  - name: quick
    iaas: sandbox
    master_instances: 1
    worker_instances: 2
    max_worker_instances: 5
    master_vm: { cpu: 2, memory_mb: 4096, ephemeral_disk_mb: 16384, persistent_disk_mb: 10240 }
    worker_vm: { cpu: 2, memory_mb: 8192, ephemeral_disk_mb: 32768, persistent_disk_mb: 20480 }
    kubernetes: { require_api: false }
    update: { max_in_flight: 2, serial: false, canary_watch_time: "10-5000", update_watch_time: "10-5000" }
  - name: disks
    iaas: sandbox
    master_instances: 1
    worker_instances: 1
    master_vm: { cpu: 2, memory_mb: 4096, ephemeral_disk_mb: 16384, persistent_disk_mb: 10240 }
    worker_vm: { cpu: 2, memory_mb: 8192, ephemeral_disk_mb: 32768, persistent_disk_mb: 20480 }
    kubernetes: { require_api: false }
    update: { serial: false, max_in_flight: 2, canary_watch_time: "10-5000", update_watch_time: "10-5000" }
  - name: disks-big
    iaas: sandbox
    master_instances: 1
    worker_instances: 1
    master_vm: { cpu: 2, memory_mb: 4096, ephemeral_disk_mb: 16384, persistent_disk_mb: 12288 }
    worker_vm: { cpu: 2, memory_mb: 8192, ephemeral_disk_mb: 32768, persistent_disk_mb: 24576 }
    kubernetes: { require_api: false }
    update: { serial: false, max_in_flight: 2, canary_watch_time: "10-5000", update_watch_time: "10-5000" }
  - name: disks-small
    iaas: sandbox
    master_instances: 1
    worker_instances: 1
    master_vm: { cpu: 2, memory_mb: 4096, ephemeral_disk_mb: 16384, persistent_disk_mb: 12288 }
    worker_vm: { cpu: 2, memory_mb: 8192, ephemeral_disk_mb: 32768, persistent_disk_mb: 10240 }
    kubernetes: { require_api: false }
  - name: slow
    iaas: slowdisk
    master_instances: 1
    worker_instances: 1
    master_vm: { cpu: 2, memory_mb: 4096, ephemeral_disk_mb: 16384, persistent_disk_mb: 10240 }
    worker_vm: { cpu: 2, memory_mb: 8192, ephemeral_disk_mb: 32768, persistent_disk_mb: 20480 }
    kubernetes: { require_api: false }
    update: { volume_detach_timeout_seconds: 0.5, ${WATCH} }`,
    }),
  );
}, 60_000);
afterAll(async () => h?.stop());

/** The sandbox cloud's own record of its VMs and stemcells (its inventory file), read as the cloud sees it. */
function sandboxInventory(): {
  vms: Record<string, { stemcellId: string }>;
  stemcells: Record<string, { name: string; version: string }>;
  disks: Record<string, { sizeMb: number }>;
} {
  const file = findFile(h.home, 'sandbox.json');
  if (!file) throw new Error(`no sandbox.json under ${h.home}`);
  return JSON.parse(readFileSync(file, 'utf8'));
}

function findFile(dir: string, name: string): string | undefined {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isFile() && entry.name === name) return path;
    if (entry.isDirectory()) {
      const found = findFile(path, name);
      if (found) return found;
    }
  }
  return undefined;
}

/** Samples the cluster every 15 ms while `during` runs and records the worst it saw. */
async function watchInvariants(
  name: string,
  maxInFlight: number,
  killed: () => Set<string>,
  during: () => Promise<void>,
) {
  const uuid = (await h.cluster(name)).uuid;
  const disksBefore = new Set(
    (await h.store.instances.disksOfCluster(uuid))
      .filter((d) => d.state !== 'deleted')
      .map((d) => `${d.instance_id}:${d.disk_cid}`),
  );
  const worst = {
    mastersDown: 0,
    workersDownByRoll: 0,
    apiUnbacked: 0,
    lostDisks: 0,
    samples: 0,
    apiMoves: new Set<string>(),
  };
  let running = true;
  const sampler = (async () => {
    while (running) {
      const rows = await h.store.instances.ofCluster(uuid);
      const cluster = (await h.store.clusters.findByUuid(uuid))!;
      const up = (i: InstanceRow) => i.state === 'running' && i.desired === 'present';
      const masters = rows.filter((r) => r.group_name === 'master');
      const workers = rows.filter((r) => r.group_name === 'worker');
      worst.mastersDown = Math.max(worst.mastersDown, masters.filter((m) => !up(m)).length);
      const externallyDown = workers.filter((w) => !up(w) && killed().has(w.id)).length;
      worst.workersDownByRoll = Math.max(
        worst.workersDownByRoll,
        workers.filter((w) => !up(w)).length - externallyDown,
      );
      if (!masters.some((m) => up(m) && m.ip === cluster.api_address)) worst.apiUnbacked++;
      worst.apiMoves.add(cluster.api_address ?? 'none');
      const disks = (await h.store.instances.disksOfCluster(uuid))
        .filter((d) => d.state !== 'deleted')
        .map((d) => `${d.instance_id}:${d.disk_cid}`);
      if (disks.length !== disksBefore.size || disks.some((d) => !disksBefore.has(d))) worst.lostDisks++;
      worst.samples++;
      await new Promise((r) => setTimeout(r, 15));
    }
  })();
  try {
    await during();
  } finally {
    running = false;
    await sampler;
  }
  void maxInFlight;
  return worst;
}

describe('rolling upgrade', () => {
  it('upgrades an HA cluster masters first, one at a time, keeping quorum, capacity, the API and every disk through a VM death and a failing cloud call', async () => {
    const cluster = await h.createCluster('prod', 'ha');
    const before = await h.instances('prod');
    const killed = new Set<string>();
    let taskId = 0;
    const worst = await watchInvariants(
      'prod',
      2,
      () => killed,
      async () => {
        h.rehearsal().failNext(
          'createVm',
          { code: 'Retryable', message: 'createVm: 503 from the compute API (injected)' },
          2,
        );
        const accepted = await h.services.upgrades.upgrade(ADMIN, 'prod', { kubernetes_version: '1.31.4' });
        taskId = accepted.task_id!;
        // Once the canary worker is done, a worker the roll has not reached yet dies.
        const victim = await h.waitFor(
          'the canary worker replaced',
          async () => {
            const events = await h.store.events.ofCluster(cluster.uuid);
            if (!events.some((e) => e.kind === 'instance.replaced' && e.message.startsWith('worker/')))
              return undefined;
            return (await h.instances('prod')).find(
              (i) => i.group_name === 'worker' && i.idx === 3 && i.vm_cid === before.find((b) => b.id === i.id)!.vm_cid,
            );
          },
          60_000,
        );
        killed.add(victim.id);
        await h.rehearsal().killVm(victim.vm_cid!);
        const done = await h.settle(taskId);
        expect(done.state, done.error ?? '').toBe('done');
      },
    );

    // etcd quorum: never more than one master down; capacity: never more workers down than max_in_flight, besides the killed one.
    expect(worst.samples).toBeGreaterThan(20);
    expect(worst.mastersDown).toBeLessThanOrEqual(1);
    expect(worst.workersDownByRoll).toBeLessThanOrEqual(2);
    expect(worst.apiUnbacked).toBe(0);
    expect(worst.apiMoves.size).toBeGreaterThan(1); // the endpoint moved off master/0 while it was replaced
    expect(worst.lostDisks).toBe(0);

    const after = await h.instances('prod');
    for (const b of before) {
      const a = after.find((x) => x.id === b.id)!;
      expect(a.vm_cid, `${b.group_name}/${b.idx} replaced`).not.toBe(b.vm_cid);
      expect(a.ip).toBe(b.ip);
      expect(a.state).toBe('running');
    }
    expect((await h.cluster('prod')).k8s_version).toBe('1.31.4');
    const specs = await h.store.db
      .selectFrom('instance_specs')
      .selectAll()
      .where('cluster_uuid', '=', cluster.uuid)
      .execute();
    expect(specs.map((s) => s.k8s_version)).toEqual(Array(7).fill('1.31.4'));

    // Masters before workers, each master alone; the task log explains every move.
    const steps = await h.store.tasks.steps(taskId);
    const masters = steps.find((s) => s.name === 'masters')!;
    const workers = steps.find((s) => s.name === 'workers')!;
    expect(masters.finished_at! <= workers.started_at!).toBe(true);
    const log = (await h.store.tasks.logs(taskId, 2000)).map((l) => l.message).join('\n');
    expect(log).toMatch(/masters: replacing master\/0 \(canary; upgrade to Kubernetes 1\.31\.4\)/);
    expect(log).toMatch(/masters: replacing master\/1 \(batch of 1/);
    expect(log).toMatch(/workers: replacing worker\/1, worker\/2 \(batch of 2/);
    expect(log).toMatch(/worker\/1: drained in/);
    expect(log).toMatch(/worker\/1: disk disk-\w+ detached from VM vm-\w+/);
    expect(log).toMatch(/createVm .*retryable; attempt 1/);
    expect(log).toMatch(/API endpoint moved off master\/0 to 10\.41\.0\.\d+/);
    // The killed worker is replaced without a drain, whether it died before or during its turn.
    expect(log).toMatch(/worker\/3: (not draining, its agent is missing|went missing while draining)/);
  }, 120_000);

  it("tells each VM's agent the Kubernetes version of its own VM, so no running node is switched in place", async () => {
    await h.createCluster('versions', 'big');
    const uuid = (await h.cluster('versions')).uuid;
    await h.store.clusters.update(uuid, { k8s_version: '1.30.8' });
    // Per VM (instance and incarnation): every version its agent was told while the roll ran and when it ended.
    const told = new Map<string, Set<string>>();
    const sample = async () => {
      for (const row of await h.store.instances.ofCluster(uuid)) {
        // `stopped`: its VM was deleted (the row keeps the old id until the new VM is made); no agent asks.
        if (!row.vm_cid || !row.ip || row.state === 'stopped') continue;
        const version = (await h.services.agents.desiredOf(row)).properties?.cluster?.kubernetesVersion;
        if (!version) continue;
        const key = `${row.group_name}/${row.idx} ${row.vm_cid}`;
        told.set(key, (told.get(key) ?? new Set()).add(version));
      }
    };
    await sample();
    const accepted = await h.services.upgrades.upgrade(ADMIN, 'versions', { kubernetes_version: '1.31.4' });
    let settled = false;
    const done = h.settle(accepted.task_id!).finally(() => {
      settled = true;
    });
    while (!settled) {
      await sample();
      await new Promise((r) => setTimeout(r, 15));
    }
    expect((await done).state).toBe('done');
    await sample(); // after the cluster's own version flipped

    const byVm = [...told].map(([vm, versions]) => `${vm}: ${[...versions].join(', ')}`);
    // Each VM was told exactly one version all its life: the old VMs 1.30.8, their replacements 1.31.4.
    expect(byVm.filter((line) => line.includes(','))).toEqual([]);
    expect(byVm.filter((line) => line.endsWith('1.30.8'))).toHaveLength(3);
    expect(byVm.filter((line) => line.endsWith('1.31.4'))).toHaveLength(3);
  }, 60_000);

  it('stops when a worker does not drain in time, naming the node and what blocked it, and goes on with force', async () => {
    await h.createCluster('stuck', 'tight');
    const w0 = (await h.instances('stuck')).find((i) => i.group_name === 'worker' && i.idx === 0)!;
    const w1 = (await h.instances('stuck')).find((i) => i.group_name === 'worker' && i.idx === 1)!;
    await h.rehearsal().hangAgent(w0.vm_cid!);
    const accepted = await h.services.upgrades.upgrade(ADMIN, 'stuck', { kubernetes_version: '1.31.4' });
    const waiting = await h.waitFor(
      'the task to wait for the drain',
      async () => {
        const t = await h.services.clusters.getTask(ADMIN, accepted.task_id!);
        return t.waiting_for?.startsWith('drain of worker/0') ? t : undefined;
      },
      30_000,
    );
    expect(waiting.waiting_for).toMatch(
      /^drain of worker\/0 \(its agent to report drained; since \d\d:\d\d:\d\d UTC, timeout 1 s\)$/,
    );
    expect(waiting.steps.find((s) => s.state === 'running')?.name).toBe('workers');
    const failed = await h.settle(accepted.task_id!);
    expect(failed.state).toBe('error');
    const error = JSON.parse(failed.error!) as { code: string; message: string; hint: string };
    expect(error.code).toBe('Timeout');
    expect(error.message).toMatch(
      new RegExp(
        `canary worker/0 failed, so the roll stopped before touching the rest: drain of worker/0 \\(VM ${w0.vm_cid}\\) did not finish within 1 s: its agent has not reported drained \\(last heartbeat [\\d.]+ s ago; `,
      ),
    );
    expect(error.hint).toMatch(/--force-drain/);
    expect((await h.store.instances.get(w1.id))!.vm_cid).toBe(w1.vm_cid);

    const forced = await h.services.upgrades.upgrade(ADMIN, 'stuck', {
      kubernetes_version: '1.31.4',
      force_drain: true,
    });
    const done = await h.settle(forced.task_id!);
    expect(done.state, done.error ?? '').toBe('done');
    const log = (await h.store.tasks.logs(done.id)).map((l) => l.message).join('\n');
    expect(log).toMatch(/drain of worker\/0 .* going on because force was chosen/);
    expect((await h.store.instances.get(w0.id))!.vm_cid).not.toBe(w0.vm_cid);
  }, 60_000);

  it('stops when a persistent disk does not detach in time, naming the node, the disk and the VM', async () => {
    await h.createCluster('sticky', 'slow');
    const master = (await h.instances('sticky')).find((i) => i.group_name === 'master')!;
    const disk = (await h.store.instances.diskOf(master.id))!;
    const accepted = await h.services.upgrades.upgrade(ADMIN, 'sticky', { stemcell: 'ubuntu-jammy/1.601' });
    const failed = await h.settle(accepted.task_id!);
    expect(failed.state).toBe('error');
    const error = JSON.parse(failed.error!) as { message: string };
    expect(error.message).toContain(
      `detaching persistent disk ${disk.disk_cid} from master/0 (VM ${master.vm_cid}) did not finish within 0.5 s: the cloud has not confirmed the detach`,
    );
    const step = (await h.store.tasks.steps(failed.id)).find((s) => s.state === 'failed')!;
    expect(step.name).toBe('masters');
    expect((await h.rehearsal('slowdisk').inventory()).vms.some((v) => v.vmId === master.vm_cid)).toBe(true);
  }, 60_000);

  it('update-cluster moves a cluster to a plan with bigger VMs, keeping its disks and addresses', async () => {
    const cluster = await h.createCluster('grow', 'small');
    const before = await h.instances('grow');
    const disks = await h.store.instances.disksOfCluster(cluster.uuid);
    const accepted = await h.services.upgrades.update(ADMIN, 'grow', { plan_name: 'big' });
    expect(accepted.last_action).toBe('UPDATE');
    const done = await h.settle(accepted.task_id!);
    expect(done.state, done.error ?? '').toBe('done');
    expect((await h.cluster('grow')).plan_name).toBe('big');
    const after = await h.instances('grow');
    expect(
      after.every(
        (a) => a.vm_cid !== before.find((b) => b.id === a.id)!.vm_cid && a.ip === before.find((b) => b.id === a.id)!.ip,
      ),
    ).toBe(true);
    expect((await h.store.instances.disksOfCluster(cluster.uuid)).map((d) => d.disk_cid).sort()).toEqual(
      disks.map((d) => d.disk_cid).sort(),
    );
    const specs = await h.store.db
      .selectFrom('instance_specs')
      .selectAll()
      .where('cluster_uuid', '=', cluster.uuid)
      .execute();
    expect(specs.filter((s) => JSON.parse(s.vm_type).cpu === 8)).toHaveLength(2);
    await expect(h.services.upgrades.update(ADMIN, 'grow', { plan_name: 'ha' })).rejects.toThrow(
      /plan "ha" has 3 masters and cluster "grow" 1; the number of masters \(etcd members\) is fixed/,
    );
    // --recreate (also the path the certificate-rotation hook takes): every VM again, nothing else changes.
    const vms = new Map((await h.instances('grow')).map((i) => [i.id, i.vm_cid]));
    const again = await h.services.upgrades.update(ADMIN, 'grow', { recreate: true });
    expect((await h.settle(again.task_id!)).state).toBe('done');
    expect((await h.instances('grow')).every((i) => i.vm_cid !== vms.get(i.id))).toBe(true);
    expect((await h.cluster('grow')).plan_name).toBe('big');
    // A resize after the update keeps working: the UPDATE type serves both.
    const resized = await h.services.clusters.resize(ADMIN, 'grow', 3);
    expect((await h.settle(resized.task_id!)).state).toBe('done');
  }, 60_000);

  it('keeps what a cluster is on day 2: a resize and a resurrection after a stemcell upgrade use the new stemcell, and a version upgrade alone keeps it', async () => {
    const cluster = await h.createCluster('patched', 'quick');
    const stemcellOf = async (vmId: string) => {
      const vm = sandboxInventory().vms[vmId];
      if (!vm) throw new Error(`no VM ${vmId} in the sandbox`);
      const s = sandboxInventory().stemcells[vm.stemcellId]!;
      return `${s.name}/${s.version}`;
    };
    const patch = await h.services.upgrades.upgrade(ADMIN, 'patched', { stemcell: 'ubuntu-jammy/1.601' });
    expect((await h.settle(patch.task_id!)).state).toBe('done');
    expect((await h.cluster('patched')).stemcell).toBe('ubuntu-jammy/1.601');

    // A cluster patched for a CVE grows patched nodes, not ones on the config's default stemcell (1.600).
    const resized = await h.services.clusters.resize(ADMIN, 'patched', 3);
    const done = await h.settle(resized.task_id!);
    expect(done.state, done.error ?? '').toBe('done');
    const rows = await h.instances('patched');
    const added = rows.find((i) => i.group_name === 'worker' && i.idx === 2)!;
    expect(await stemcellOf(added.vm_cid!), 'the worker a resize added').toBe('ubuntu-jammy/1.601');
    expect(
      (await h.services.agents.desiredOf(added)).properties?.cluster?.kubernetesVersion,
      "and the cluster's Kubernetes version",
    ).toBe('1.31.4');

    // The resurrector recreates the new worker on the cluster's stemcell too.
    await h.rehearsal().killVm(added.vm_cid!);
    const back = await h.waitFor(
      'the killed worker resurrected',
      async () => {
        const row = await h.store.instances.get(added.id);
        return row?.vm_cid && row.vm_cid !== added.vm_cid && row.state === 'running' ? row : undefined;
      },
      30_000,
    );
    expect(await stemcellOf(back.vm_cid!), 'the resurrected worker').toBe('ubuntu-jammy/1.601');

    // An upgrade of Kubernetes alone keeps the cluster's stemcell (the catalog's default, 1.600, would be a downgrade).
    await h.store.clusters.update(cluster.uuid, { k8s_version: '1.30.8' });
    await h.store.db
      .updateTable('instance_specs')
      .set({ k8s_version: '1.30.8' })
      .where('cluster_uuid', '=', cluster.uuid)
      .execute();
    const up = await h.services.upgrades.upgrade(ADMIN, 'patched', { kubernetes_version: '1.31.4' });
    const upgraded = await h.settle(up.task_id!);
    expect(upgraded.state, upgraded.error ?? '').toBe('done');
    expect(upgraded.description).toBe('upgrade cluster patched: Kubernetes 1.30.8 → 1.31.4');
    expect(await h.cluster('patched')).toMatchObject({ k8s_version: '1.31.4', stemcell: 'ubuntu-jammy/1.601' });
    for (const row of await h.instances('patched'))
      expect(await stemcellOf(row.vm_cid!), `${row.group_name}/${row.idx}`).toBe('ubuntu-jammy/1.601');
  }, 90_000);

  it('update-cluster to a plan with larger persistent disks grows them, in place or by a copy the agent makes, and refuses to shrink them', async () => {
    const cluster = await h.createCluster('roomy', 'disks');
    const rows = await h.instances('roomy');
    const master = rows.find((i) => i.group_name === 'master')!;
    const worker = rows.find((i) => i.group_name === 'worker')!;
    const masterDisk = (await h.store.instances.diskOf(master.id))!;
    const workerDisk = (await h.store.instances.diskOf(worker.id))!;
    const inventoryFile = findFile(h.home, 'sandbox.json')!;
    const diskDir = (id: string) => join(`${inventoryFile}.disks`, id);
    // What the jobs would have written (etcd's data, a symlink among it) on each disk.
    for (const disk of [masterDisk, workerDisk]) {
      writeFileSync(join(diskDir(disk.disk_cid!), 'member.db'), `data of ${disk.disk_cid}`);
      symlinkSync('member.db', join(diskDir(disk.disk_cid!), 'current'));
    }

    // The cloud cannot resize the master's disk (a disk type without online resize): the engine copies.
    h.rehearsal().failNext('resizeDisk', {
      code: 'CloudError',
      message: 'this volume type cannot be resized (injected)',
    });
    const accepted = await h.services.upgrades.update(ADMIN, 'roomy', { plan_name: 'disks-big' });
    const done = await h.settle(accepted.task_id!);
    expect(done.state, done.error ?? '').toBe('done');
    const log = (await h.store.tasks.logs(done.id, 500)).map((l) => l.message).join('\n');

    const grownByCopy = (await h.store.instances.diskOf(master.id))!;
    const grownInPlace = (await h.store.instances.diskOf(worker.id))!;
    const copied = log.includes(`resizeDisk ${masterDisk.disk_cid} refused`) ? grownByCopy : grownInPlace;
    const inPlace = copied === grownByCopy ? grownInPlace : grownByCopy;
    const [oldCopied, oldInPlace] = copied === grownByCopy ? [masterDisk, workerDisk] : [workerDisk, masterDisk];
    expect(log).toMatch(/refused \(.*cannot be resized \(injected\)\); growing it by a new disk and a copy instead/);
    // Grown in place: the same disk, bigger, in the cloud and in the store.
    expect(inPlace.disk_cid).toBe(oldInPlace.disk_cid);
    const cloudDisks = sandboxInventory().disks;
    expect(cloudDisks[inPlace.disk_cid!]!.sizeMb).toBe(inPlace.size_mb);
    expect(inPlace.size_mb).toBeGreaterThan(oldInPlace.size_mb);
    // Grown by a copy: a new, bigger disk holding the old one's data; the old disk is gone from the cloud.
    expect(copied.disk_cid).not.toBe(oldCopied.disk_cid);
    expect(cloudDisks[copied.disk_cid!]!.sizeMb).toBe(copied.size_mb);
    expect(cloudDisks[oldCopied.disk_cid!], 'the old disk is deleted').toBeUndefined();
    expect(copied.grow_from_cid).toBeNull();
    expect(readFileSync(join(diskDir(copied.disk_cid!), 'member.db'), 'utf8')).toBe(`data of ${oldCopied.disk_cid}`);
    expect(readlinkSync(join(diskDir(copied.disk_cid!), 'current'))).toBe('member.db');
    expect(readFileSync(join(diskDir(inPlace.disk_cid!), 'member.db'), 'utf8')).toBe(`data of ${inPlace.disk_cid}`);
    const mounted = (await h.store.instances.get(copied.instance_id))!;
    expect(mounted.mounted_disk_cid, "the new VM's agent mounted the grown disk").toBe(copied.disk_cid);
    const events = (await h.store.events.ofCluster(cluster.uuid))
      .filter((e) => e.kind === 'disk.grown')
      .map((e) => e.message);
    expect(events.some((m) => /grown in place from \d+ to \d+ MiB/.test(m))).toBe(true);
    expect(events.some((m) => /copied from disk-\w+ onto disk-\w+, the old disk deleted/.test(m))).toBe(true);

    // Shrinking is refused before any task starts, naming the group, both sizes and what to do.
    await expect(h.services.upgrades.update(ADMIN, 'roomy', { plan_name: 'disks-small' })).rejects.toThrow(
      'plan "disks-small" gives workers a 10240 MiB persistent disk, smaller than the 24576 MiB workers of cluster "roomy" have; persistent disks only grow (shrinking would lose their data)',
    );
  }, 60_000);

  it('refuses an upgrade that skips a minor version, saying which path is allowed', async () => {
    await h.createCluster('legacy', 'small');
    await h.store.clusters.update((await h.cluster('legacy')).uuid, { k8s_version: '1.29.6' });
    await expect(h.services.upgrades.upgrade(ADMIN, 'legacy', { kubernetes_version: '1.31.4' })).rejects.toThrow(
      '1.29.6 → 1.31.4 skips 1.30; upgrade to 1.30.x first (available: 1.30.8)',
    );
    const available = await h.services.upgrades.available(ADMIN, 'legacy');
    expect(available).toMatchObject({
      kubernetes_versions: ['1.30.8'],
      default_target: { kubernetes_version: '1.30.8', stemcell: 'ubuntu-jammy/1.600' },
    });
  });
});
