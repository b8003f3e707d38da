import { inject, injectable } from 'tsyringe';
import { SlipwayError, type Clock } from '@slipway/contracts';
import { isoNow } from '../clock.js';
import { label } from '../lifecycle/provisioner.js';
import type { IaasTargetRuntime, PluginSet } from '../plugins/plugin-set.js';
import type { ClusterRow, DiskRow, InstanceRow, Store } from '../store/index.js';
import { CLOCK, PLUGINS, STORE } from '../tokens.js';
import { InstanceReplacer } from '../upgrades/instance-replacer.js';

/** What a cloud check finds (BOSH cck's problems, plus the orphans a crash can leave). */
export const PROBLEM_TYPES = [
  'missing_vm',
  'unresponsive_agent',
  'orphan_vm',
  'orphan_disk',
  'missing_disk',
  'disk_not_attached',
] as const;
export type ProblemType = (typeof PROBLEM_TYPES)[number];

/** How a problem can be fixed (BOSH cck's resolutions, by the same names where they exist). */
export const RESOLUTIONS = [
  'ignore',
  'recreate_vm',
  'reboot_vm',
  'delete_vm',
  'delete_disk',
  'reattach_disk',
  'delete_disk_reference',
] as const;
export type Resolution = (typeof RESOLUTIONS)[number];

export interface Problem {
  /** Stable across scans while the problem lasts: what POST /doctor names. */
  id: string;
  type: ProblemType;
  description: string;
  instance: string | null;
  instance_id: string | null;
  vm_cid: string | null;
  disk_cid: string | null;
  resolutions: Resolution[];
  default_resolution: Resolution;
}

export interface DoctorReport {
  cluster: string;
  checked_at: string;
  /** Whether the cloud listed what it holds (capability `inventory`); without it orphans cannot be found. */
  inventory: boolean;
  problems: Problem[];
  notes: string[];
}

/**
 * `slipway doctor CLUSTER`: compares what the store says of a cluster with what its cloud holds. With the
 * `inventory` capability, the cloud lists the VMs and disks tagged with the cluster; otherwise each known
 * VM and disk is asked after (hasVm, hasDisk, getDisks) and orphans cannot be seen.
 */
@injectable()
export class Doctor {
  constructor(
    @inject(STORE) private readonly store: Store,
    @inject(PLUGINS) private readonly plugins: PluginSet,
    @inject(CLOCK) private readonly clock: Clock,
    @inject(InstanceReplacer) private readonly replacer: InstanceReplacer,
  ) {}

  async scan(cluster: ClusterRow, signal: AbortSignal): Promise<DoctorReport> {
    const target = this.plugins.iaasTarget(cluster.iaas);
    const instances = await this.store.instances.ofCluster(cluster.uuid);
    const disks = (await this.store.instances.disksOfCluster(cluster.uuid)).filter(
      (d) => d.state !== 'deleted' && d.disk_cid,
    );
    const problems: Problem[] = [];
    const notes: string[] = [];
    const active = await this.store.tasks.activeForCluster(cluster.uuid);
    if (active)
      notes.push(
        `task ${active.id} (${active.type.toLowerCase()}) is running on this cluster: what it is creating or deleting right now may show up as a problem; check again when it ends`,
      );
    const inventory =
      target.capabilities.includes('inventory') && target.driver.listResources
        ? await this.call(
            target,
            'listResources',
            (o) => target.driver.listResources!({ tags: { 'slipway.cluster_uuid': cluster.uuid } }, o),
            signal,
          )
        : undefined;
    if (!inventory)
      notes.push(
        `${target.plugin} cannot list what it holds (no \`inventory\` capability): VMs and disks the store does not know about cannot be found on this target`,
      );

    const cloudVm = async (vmId: string) =>
      inventory
        ? inventory.vms.some((v) => v.vmId === vmId)
        : this.call(target, `hasVm ${vmId}`, (o) => target.driver.hasVm({ vmId }, o), signal);
    const cloudDisk = async (diskId: string): Promise<{ exists: boolean; vmId?: string }> => {
      if (inventory) {
        const d = inventory.disks.find((x) => x.diskId === diskId);
        return { exists: Boolean(d), vmId: d?.vmId };
      }
      return {
        exists: await this.call(target, `hasDisk ${diskId}`, (o) => target.driver.hasDisk({ diskId }, o), signal),
      };
    };

    for (const i of instances.filter((x) => x.desired === 'present')) {
      const name = label(i);
      if (!i.vm_cid || !(await cloudVm(i.vm_cid))) {
        problems.push(
          this.problem(
            'missing_vm',
            `instance:${i.id}`,
            i,
            null,
            i.vm_cid ? `${name}: VM ${i.vm_cid} is in the store but not in the cloud` : `${name} has no VM`,
            ['recreate_vm', 'ignore'],
            'recreate_vm',
          ),
        );
        continue;
      }
      if (i.state === 'unresponsive') {
        const options: Resolution[] =
          target.capabilities.includes('vm.reboot') && target.driver.rebootVm
            ? ['recreate_vm', 'reboot_vm', 'ignore']
            : ['recreate_vm', 'ignore'];
        problems.push(
          this.problem(
            'unresponsive_agent',
            `instance:${i.id}`,
            i,
            null,
            `${name}: VM ${i.vm_cid} exists but its agent does not report (last heartbeat ${i.last_heartbeat_at ?? 'never'})`,
            options,
            'recreate_vm',
          ),
        );
      }
    }

    const byInstance = new Map(instances.map((i) => [i.id, i]));
    for (const d of disks) {
      const owner = byInstance.get(d.instance_id);
      const cloud = await cloudDisk(d.disk_cid!);
      const name = owner ? label(owner) : d.instance_id;
      if (!cloud.exists) {
        problems.push(
          this.problem(
            'missing_disk',
            `disk:${d.disk_cid}`,
            owner ?? null,
            d,
            `${name}: persistent disk ${d.disk_cid} is in the store but not in the cloud; its data is gone`,
            ['delete_disk_reference', 'ignore'],
            'ignore',
          ),
        );
        continue;
      }
      // Only a disk whose VM exists can be reattached; a missing VM is the instance's problem (recreate reattaches).
      if (!owner?.vm_cid || owner.desired !== 'present' || !(await cloudVm(owner.vm_cid))) continue;
      const attachedTo = inventory
        ? cloud.vmId
        : (
              await this.call(
                target,
                `getDisks ${owner.vm_cid}`,
                (o) => target.driver.getDisks({ vmId: owner.vm_cid! }, o),
                signal,
              )
            ).includes(d.disk_cid!)
          ? owner.vm_cid
          : undefined;
      if (attachedTo !== owner.vm_cid) {
        problems.push(
          this.problem(
            'disk_not_attached',
            `disk:${d.disk_cid}`,
            owner,
            d,
            `${name}: persistent disk ${d.disk_cid} should be attached to VM ${owner.vm_cid} but ${attachedTo ? `is attached to ${attachedTo}` : 'is not attached'}`,
            ['reattach_disk', 'ignore'],
            'reattach_disk',
          ),
        );
      }
    }

    if (inventory) {
      const knownVms = new Set(instances.map((i) => i.vm_cid).filter(Boolean));
      for (const vm of inventory.vms) {
        if (knownVms.has(vm.vmId)) continue;
        problems.push({
          id: `vm:${vm.vmId}`,
          type: 'orphan_vm',
          instance: vm.metadata['slipway.instance'] ?? null,
          instance_id: vm.metadata['slipway.instance_id'] ?? null,
          vm_cid: vm.vmId,
          disk_cid: null,
          resolutions: ['delete_vm', 'ignore'],
          default_resolution: 'delete_vm',
          description: `VM ${vm.vmId} (${vm.metadata['slipway.instance'] ?? 'no instance tag'}) is tagged with this cluster but no instance uses it: a leftover (a crash, an interrupted delete)`,
        });
      }
      // A disk growing by a copy keeps its old disk (grow_from_cid) until the copy is done: not an orphan.
      const knownDisks = new Set(
        (await this.store.instances.disksOfCluster(cluster.uuid))
          .filter((d) => d.state !== 'deleted')
          .flatMap((d) => [d.disk_cid, d.grow_from_cid])
          .filter(Boolean),
      );
      for (const disk of inventory.disks) {
        if (knownDisks.has(disk.diskId)) continue;
        problems.push({
          id: `disk:${disk.diskId}`,
          type: 'orphan_disk',
          instance: null,
          instance_id: disk.metadata['slipway.instance_id'] ?? null,
          vm_cid: disk.vmId ?? null,
          disk_cid: disk.diskId,
          resolutions: ['delete_disk', 'ignore'],
          default_resolution: 'delete_disk',
          description: `disk ${disk.diskId}${disk.sizeMb ? ` (${disk.sizeMb} MiB)` : ''} is tagged with this cluster but no instance uses it${disk.vmId ? `; it is attached to ${disk.vmId}` : ''}: a leftover`,
        });
      }
    }
    return { cluster: cluster.name, checked_at: isoNow(this.clock), inventory: Boolean(inventory), problems, notes };
  }

  /** Applies one resolution to a problem found by the latest scan. Returns an instance to wait for, if any. */
  async apply(
    cluster: ClusterRow,
    problem: Problem,
    resolution: Resolution,
    signal: AbortSignal,
    log: (m: string) => void,
  ): Promise<string | undefined> {
    if (!problem.resolutions.includes(resolution)) {
      throw new SlipwayError(
        'InvalidInput',
        `${resolution} does not fix ${problem.type}; choose one of ${problem.resolutions.join(', ')}`,
        { field: 'resolutions' },
      );
    }
    const target = this.plugins.iaasTarget(cluster.iaas);
    const progress = { signal, log, waitingFor: () => {} };
    const instance = problem.instance_id ? await this.store.instances.get(problem.instance_id) : undefined;
    switch (resolution) {
      case 'ignore':
        return undefined;
      case 'recreate_vm': {
        if (!instance) throw new SlipwayError('NotFound', `instance ${problem.instance_id} is gone`);
        if (instance.vm_cid && problem.type === 'unresponsive_agent')
          await this.replacer.retire(cluster, instance, { detachTimeoutMs: 60_000, force: true }, progress);
        const fresh = (await this.store.instances.get(instance.id))!;
        const { plan, stemcellId } = await this.replacer.currentSpec(cluster, fresh, progress);
        await this.replacer.recreate(cluster, fresh, plan, stemcellId, progress);
        return instance.id;
      }
      case 'reboot_vm':
        if (!instance?.vm_cid || !target.driver.rebootVm)
          throw new SlipwayError('Unsupported', `${target.plugin} cannot reboot VMs`);
        await this.call(
          target,
          `rebootVm ${instance.vm_cid}`,
          (o) => target.driver.rebootVm!({ vmId: instance.vm_cid! }, o),
          signal,
        );
        log(`${label(instance)}: VM ${instance.vm_cid} rebooted`);
        return instance.id;
      case 'delete_vm':
        await this.call(
          target,
          `deleteVm ${problem.vm_cid}`,
          (o) => target.driver.deleteVm({ vmId: problem.vm_cid! }, o),
          signal,
        );
        log(`deleted leftover VM ${problem.vm_cid}`);
        return undefined;
      case 'delete_disk':
        if (problem.vm_cid)
          await this.call(
            target,
            `detachDisk ${problem.disk_cid}`,
            (o) => target.driver.detachDisk({ vmId: problem.vm_cid!, diskId: problem.disk_cid! }, o),
            signal,
          );
        await this.call(
          target,
          `deleteDisk ${problem.disk_cid}`,
          (o) => target.driver.deleteDisk({ diskId: problem.disk_cid! }, o),
          signal,
        );
        log(`deleted leftover disk ${problem.disk_cid}`);
        return undefined;
      case 'reattach_disk': {
        if (!instance?.vm_cid)
          throw new SlipwayError('NotFound', `the VM of ${problem.instance} is gone; recreate it instead`);
        const disk = (await this.store.instances.diskOf(instance.id))!;
        await this.call(
          target,
          `attachDisk ${disk.disk_cid} to ${instance.vm_cid}`,
          (o) => target.driver.attachDisk({ vmId: instance.vm_cid!, diskId: disk.disk_cid! }, o),
          signal,
        );
        await this.store.instances.upsertDisk({
          ...disk,
          attached_vm_cid: instance.vm_cid,
          state: 'attached',
          updated_at: isoNow(this.clock),
        });
        log(`${label(instance)}: disk ${disk.disk_cid} reattached to VM ${instance.vm_cid}`);
        return undefined;
      }
      case 'delete_disk_reference': {
        const disk = (await this.store.instances.disksOfCluster(cluster.uuid)).find(
          (d) => d.disk_cid === problem.disk_cid,
        );
        if (disk)
          await this.store.instances.upsertDisk({
            ...disk,
            state: 'deleted',
            attached_vm_cid: null,
            updated_at: isoNow(this.clock),
          } satisfies DiskRow);
        log(`forgot disk ${problem.disk_cid}: the next VM of ${problem.instance} gets a new empty disk`);
        return undefined;
      }
    }
  }

  private problem(
    type: ProblemType,
    id: string,
    instance: InstanceRow | null,
    disk: DiskRow | null,
    description: string,
    resolutions: Resolution[],
    fallback: Resolution,
  ): Problem {
    return {
      id,
      type,
      description,
      instance: instance ? label(instance) : null,
      instance_id: instance?.id ?? disk?.instance_id ?? null,
      vm_cid: instance?.vm_cid ?? null,
      disk_cid: disk?.disk_cid ?? null,
      resolutions,
      default_resolution: fallback,
    };
  }

  private call<T>(
    target: IaasTargetRuntime,
    what: string,
    fn: (o: { signal: AbortSignal }) => Promise<T>,
    signal: AbortSignal,
  ): Promise<T> {
    return this.replacer.call(target, what, fn, signal);
  }
}
