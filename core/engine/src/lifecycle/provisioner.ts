import { randomUUID } from 'node:crypto';
import { inject, injectable } from 'tsyringe';
import type { CallOptions, Clock } from '@slipway/contracts';
import { AgentIdentity } from '../agents/agent-identity.js';
import { isoNow } from '../clock.js';
import type { PlanConfig, SlipwayConfig, VmType } from '../config/schema.js';
import type { IaasTargetRuntime, PluginSet } from '../plugins/plugin-set.js';
import { withRetry } from '../retry.js';
import type { ClusterRow, DiskRow, InstanceRow, Store } from '../store/index.js';
import { CLOCK, CONFIG, PLUGINS, STORE } from '../tokens.js';

/**
 * Brings one instance's VM and persistent disk into existence, or out of it, through the IaaS driver.
 * Every cloud call carries a requestId derived from persisted ids, so re-running after a crash finds the
 * VM or disk the first run made instead of making a second one.
 */
@injectable()
export class Provisioner {
  constructor(
    @inject(STORE) private readonly store: Store,
    @inject(PLUGINS) private readonly plugins: PluginSet,
    @inject(CLOCK) private readonly clock: Clock,
    @inject(CONFIG) private readonly config: SlipwayConfig,
    @inject(AgentIdentity) private readonly identity: AgentIdentity,
  ) {}

  /** Runs a cloud call with the engine's retry policy. */
  call<T>(
    target: IaasTargetRuntime,
    what: string,
    fn: (options: CallOptions) => Promise<T>,
    options: CallOptions,
    log?: (m: string) => void,
  ): Promise<T> {
    return withRetry(`${target.name}: ${what}`, () => fn(options), {
      clock: this.clock,
      signal: options.signal,
      policy: { attempts: this.config.tasks.retry_attempts, baseMs: 200, maxMs: 10_000 },
      onRetry: (error, attempt, waitMs) =>
        log?.(`${what}: ${error.message} (retryable; attempt ${attempt}, next in ${waitMs} ms)`),
    });
  }

  /**
   * A stemcell on a target, uploaded once: the one named (a cluster's current stemcell, so a resize or a
   * resurrection of a cluster patched to a newer stemcell makes VMs of that stemcell), else the config's default.
   */
  async ensureStemcell(
    target: IaasTargetRuntime,
    signal: AbortSignal,
    log?: (m: string) => void,
    stemcell?: { name: string; version: string },
  ): Promise<string> {
    const { name, version } = stemcell ?? this.config.kubernetes.stemcell;
    const existing = await this.store.db
      .selectFrom('stemcells')
      .select('stemcell_cid')
      .where('iaas', '=', target.name)
      .where('name', '=', name)
      .where('version', '=', version)
      .executeTakeFirst();
    if (existing) return existing.stemcell_cid;
    const { stemcellId } = await this.call(
      target,
      `createStemcell ${name}/${version}`,
      (o) =>
        target.driver.createStemcell(
          {
            name,
            version,
            cloudProperties: { ...this.config.iaas.find((t) => t.name === target.name)?.stemcell_cloud_properties },
          },
          o,
        ),
      { signal, requestId: `stemcell:${name}/${version}` },
      log,
    );
    await this.store.db
      .insertInto('stemcells')
      .values({ iaas: target.name, name, version, stemcell_cid: stemcellId, created_at: isoNow(this.clock) })
      .onConflict((oc) => oc.columns(['iaas', 'name', 'version']).doNothing())
      .execute();
    return stemcellId;
  }

  /** Creates the instance's VM (and its persistent disk, attached) unless it exists. Idempotent. */
  async ensureVm(
    cluster: ClusterRow,
    instance: InstanceRow,
    plan: PlanConfig,
    stemcellId: string,
    signal: AbortSignal,
    log?: (m: string) => void,
  ): Promise<InstanceRow> {
    const target = this.plugins.iaasTarget(cluster.iaas);
    const vmType = instance.group_name === 'master' ? plan.master_vm : plan.worker_vm;
    let current = (await this.store.instances.get(instance.id))!;
    if (current.vm_cid) {
      const exists = await this.call(
        target,
        `hasVm ${current.vm_cid}`,
        (o) => target.driver.hasVm({ vmId: current.vm_cid! }, o),
        { signal },
        log,
      );
      if (exists) {
        await this.ensureAttached(target, current, signal, log);
        return current;
      }
      // The VM vanished: a new incarnation gets a new agent identity; the persistent disk is reused.
      log?.(`VM ${current.vm_cid} of ${label(current)} is gone; creating a new one`);
      await this.event(
        current,
        'vm.missing',
        `VM ${current.vm_cid} of ${label(current)} is gone from the cloud; recreating it`,
        'warning',
      );
      // "Gone" may be a husk the cloud still lists (a terminated GCE instance, a stopped EC2 one): delete it
      // so it frees its disk and does not pile up. Deleting what is really gone succeeds.
      const vanished = current.vm_cid;
      await this.call(
        target,
        `deleteVm ${vanished}`,
        (o) => target.driver.deleteVm({ vmId: vanished }, o),
        { signal },
        log,
      );
      await this.identity.forget(cluster.uuid, current.agent_id);
      await this.store.instances.update(current.id, {
        vm_cid: null,
        agent_id: randomUUID(),
        state: 'starting',
        mounted_disk_cid: null,
        updated_at: isoNow(this.clock),
      });
      current = (await this.store.instances.get(instance.id))!;
    }

    const disk = vmType.persistent_disk_mb
      ? await this.ensureDisk(target, cluster, current, vmType, signal, log)
      : undefined;
    const env = await this.identity.settingsFor(
      cluster,
      current,
      disk?.disk_cid ?? undefined,
      disk?.grow_from_cid ?? undefined,
    );
    const created = await this.call(
      target,
      `createVm ${label(current)}`,
      (o) =>
        target.driver.createVm(
          {
            agentId: current.agent_id,
            stemcellId,
            resources: {
              cpu: vmType.cpu,
              memoryMb: vmType.memory_mb,
              ephemeralDiskMb: vmType.ephemeral_disk_mb,
              instanceType: vmType.instance_type,
            },
            cloudProperties: vmType.cloud_properties,
            network: { ip: current.ip! },
            diskHints: disk?.disk_cid ? [disk.disk_cid] : [],
            env,
            metadata: {
              'slipway.cluster': cluster.name,
              'slipway.cluster_uuid': cluster.uuid,
              'slipway.instance': `${current.group_name}/${current.idx}`,
              'slipway.instance_id': current.id,
            },
          },
          o,
        ),
      { signal, requestId: `vm:${current.agent_id}` },
      log,
    );
    await this.store.instances.update(current.id, {
      vm_cid: created.vmId,
      zone: created.zone ?? null,
      updated_at: isoNow(this.clock),
    });
    current = (await this.store.instances.get(instance.id))!;
    log?.(`created VM ${created.vmId} for ${label(current)}`);
    await this.event(
      current,
      'vm.created',
      `VM ${created.vmId} created for ${label(current)} at ${current.ip}${created.zone ? ` in ${created.zone}` : ''}`,
    );
    await this.ensureAttached(target, current, signal, log);
    return current;
  }

  private async ensureDisk(
    target: IaasTargetRuntime,
    cluster: ClusterRow,
    instance: InstanceRow,
    vmType: VmType,
    signal: AbortSignal,
    log?: (m: string) => void,
  ): Promise<DiskRow> {
    let disk = await this.store.instances.diskOf(instance.id);
    const now = isoNow(this.clock);
    if (!disk) {
      disk = {
        id: randomUUID(),
        cluster_uuid: cluster.uuid,
        instance_id: instance.id,
        disk_cid: null,
        size_mb: vmType.persistent_disk_mb!,
        attached_vm_cid: null,
        state: 'creating',
        grow_from_cid: null,
        created_at: now,
        updated_at: now,
      };
      await this.store.instances.upsertDisk(disk);
    }
    if (!disk.disk_cid) {
      const { diskId } = await this.call(
        target,
        `createDisk for ${label(instance)}`,
        (o) =>
          target.driver.createDisk(
            {
              sizeMb: disk!.size_mb,
              zone: instance.zone ?? undefined,
              metadata: { 'slipway.cluster_uuid': cluster.uuid, 'slipway.instance_id': instance.id },
            },
            o,
          ),
        { signal, requestId: `disk:${disk.id}` },
        log,
      );
      disk = { ...disk, disk_cid: diskId, state: 'detached', updated_at: isoNow(this.clock) };
      await this.store.instances.upsertDisk(disk);
    }
    return disk;
  }

  private async ensureAttached(
    target: IaasTargetRuntime,
    instance: InstanceRow,
    signal: AbortSignal,
    log?: (m: string) => void,
  ): Promise<void> {
    const disk = await this.store.instances.diskOf(instance.id);
    if (!disk?.disk_cid || !instance.vm_cid) return;
    // A disk being grown by a copy: the old one goes beside the new one, for the agent to copy from.
    if (disk.grow_from_cid) {
      const from = disk.grow_from_cid;
      await this.call(
        target,
        `attachDisk ${from} to ${instance.vm_cid} (to copy from)`,
        (o) => target.driver.attachDisk({ vmId: instance.vm_cid!, diskId: from }, o),
        { signal },
        log,
      );
    }
    if (disk.attached_vm_cid === instance.vm_cid && disk.state === 'attached') return;
    await this.call(
      target,
      `attachDisk ${disk.disk_cid} to ${instance.vm_cid}`,
      (o) => target.driver.attachDisk({ vmId: instance.vm_cid!, diskId: disk.disk_cid! }, o),
      { signal },
      log,
    );
    await this.store.instances.upsertDisk({
      ...disk,
      attached_vm_cid: instance.vm_cid,
      state: 'attached',
      updated_at: isoNow(this.clock),
    });
    await this.event(
      instance,
      'disk.attached',
      `persistent disk ${disk.disk_cid} attached to VM ${instance.vm_cid} of ${label(instance)}`,
    );
  }

  /** Deletes the instance's VM (its disk detaches and survives). Idempotent. */
  async deleteVm(
    cluster: ClusterRow,
    instance: InstanceRow,
    signal: AbortSignal,
    log?: (m: string) => void,
  ): Promise<void> {
    const target = this.plugins.iaasTarget(cluster.iaas);
    if (instance.vm_cid) {
      const vmId = instance.vm_cid;
      const disk = await this.store.instances.diskOf(instance.id);
      if (disk?.disk_cid && disk.attached_vm_cid) {
        await this.call(
          target,
          `detachDisk ${disk.disk_cid}`,
          (o) => target.driver.detachDisk({ vmId, diskId: disk.disk_cid! }, o),
          { signal },
          log,
        );
        await this.store.instances.upsertDisk({
          ...disk,
          attached_vm_cid: null,
          state: 'detached',
          updated_at: isoNow(this.clock),
        });
      }
      await this.call(target, `deleteVm ${vmId}`, (o) => target.driver.deleteVm({ vmId }, o), { signal }, log);
      await this.store.instances.update(instance.id, {
        vm_cid: null,
        state: 'stopped',
        updated_at: isoNow(this.clock),
      });
      log?.(`deleted VM ${vmId} of ${label(instance)}`);
      await this.event(instance, 'vm.deleted', `VM ${vmId} of ${label(instance)} deleted`);
    }
    await this.identity.forget(cluster.uuid, instance.agent_id);
  }

  private async event(
    instance: InstanceRow,
    kind: string,
    message: string,
    severity: 'info' | 'warning' | 'critical' = 'info',
  ): Promise<void> {
    await this.store.events.record({
      at: isoNow(this.clock),
      cluster_uuid: instance.cluster_uuid,
      instance_id: instance.id,
      kind,
      severity,
      message,
    });
  }

  /** Deletes the instance's persistent disk. Idempotent. */
  async deleteDisk(
    cluster: ClusterRow,
    instance: InstanceRow,
    signal: AbortSignal,
    log?: (m: string) => void,
  ): Promise<void> {
    const target = this.plugins.iaasTarget(cluster.iaas);
    const disk = await this.store.instances.diskOf(instance.id);
    if (!disk) return;
    if (disk.disk_cid) {
      await this.call(
        target,
        `deleteDisk ${disk.disk_cid}`,
        (o) => target.driver.deleteDisk({ diskId: disk.disk_cid! }, o),
        { signal },
        log,
      );
      log?.(`deleted disk ${disk.disk_cid} of ${label(instance)}`);
    }
    // An instance removed while its disk was growing by a copy: the old disk goes too, not left as an orphan.
    if (disk.grow_from_cid) {
      const from = disk.grow_from_cid;
      await this.call(
        target,
        `deleteDisk ${from}`,
        (o) => target.driver.deleteDisk({ diskId: from }, o),
        { signal },
        log,
      );
    }
    await this.store.instances.upsertDisk({
      ...disk,
      state: 'deleted',
      attached_vm_cid: null,
      updated_at: isoNow(this.clock),
    });
  }
}

export function label(instance: Pick<InstanceRow, 'group_name' | 'idx'>): string {
  return `${instance.group_name}/${instance.idx}`;
}
