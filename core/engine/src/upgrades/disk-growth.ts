import { inject, injectable } from 'tsyringe';
import { SlipwayError, type Clock } from '@slipway/contracts';
import { isoNow } from '../clock.js';
import { label, Provisioner } from '../lifecycle/provisioner.js';
import type { PluginSet } from '../plugins/plugin-set.js';
import type { ClusterRow, InstanceRow, Store } from '../store/index.js';
import { CLOCK, PLUGINS, STORE } from '../tokens.js';
import type { ReplaceProgress } from './instance-replacer.js';

/**
 * Grows an instance's persistent disk to a plan's larger `persistent_disk_mb`, while its VM is away (between
 * retire and recreate in a roll). Where the driver declares `disk.resize` the disk grows in place; otherwise
 * (or when the cloud refuses to resize that disk) a new disk of the new size is made and attached beside the
 * old one, the new VM's agent copies the old disk onto it before mounting it, and the old disk is deleted once
 * that VM runs. Each move is recorded first (disks.grow_from_cid), so a resumed roll finishes the same growth.
 * Disks never shrink: the service refuses a smaller size before any task starts.
 */
@injectable()
export class DiskGrowth {
  constructor(
    @inject(STORE) private readonly store: Store,
    @inject(PLUGINS) private readonly plugins: PluginSet,
    @inject(CLOCK) private readonly clock: Clock,
    @inject(Provisioner) private readonly provisioner: Provisioner,
  ) {}

  /** Grows the instance's (detached) disk to `wantedMb`; nothing when it is that big already or has no disk. */
  async grow(
    cluster: ClusterRow,
    instance: InstanceRow,
    wantedMb: number | undefined,
    progress: ReplaceProgress,
  ): Promise<void> {
    const disk = await this.store.instances.diskOf(instance.id);
    if (!disk?.disk_cid || wantedMb === undefined || wantedMb <= disk.size_mb) return;
    const name = label(instance);
    const target = this.plugins.iaasTarget(cluster.iaas);
    const from = disk.size_mb;
    if (target.capabilities.includes('disk.resize') && target.driver.resizeDisk) {
      try {
        await this.provisioner.call(
          target,
          `resizeDisk ${disk.disk_cid} to ${wantedMb} MiB`,
          (o) => target.driver.resizeDisk!({ diskId: disk.disk_cid!, sizeMb: wantedMb }, o),
          { signal: progress.signal },
          progress.log,
        );
        await this.setSize(disk.id, wantedMb);
        progress.log(`${name}: disk ${disk.disk_cid} grown in place from ${from} to ${wantedMb} MiB`);
        await this.event(
          instance,
          `persistent disk ${disk.disk_cid} of ${name} grown in place from ${from} to ${wantedMb} MiB`,
        );
        return;
      } catch (e) {
        const error = SlipwayError.from(e);
        if (error.code === 'Cancelled' || error.retryable) throw e;
        // Some disk types cannot grow in place (or not while the cloud says so): the copy works everywhere.
        progress.log(
          `${name}: resizeDisk ${disk.disk_cid} refused (${error.message}); growing it by a new disk and a copy instead`,
        );
      }
    }
    const { diskId } = await this.provisioner.call(
      target,
      `createDisk of ${wantedMb} MiB for ${name} (to grow disk ${disk.disk_cid})`,
      (o) =>
        target.driver.createDisk(
          {
            sizeMb: wantedMb,
            zone: instance.zone ?? undefined,
            metadata: { 'slipway.cluster_uuid': cluster.uuid, 'slipway.instance_id': instance.id },
          },
          o,
        ),
      { signal: progress.signal, requestId: `disk-grow:${disk.id}:${disk.disk_cid}:${wantedMb}` },
      progress.log,
    );
    await this.store.db
      .updateTable('disks')
      .set({
        grow_from_cid: disk.disk_cid,
        disk_cid: diskId,
        size_mb: wantedMb,
        attached_vm_cid: null,
        state: 'detached',
        updated_at: isoNow(this.clock),
      })
      .where('id', '=', disk.id)
      .execute();
    progress.log(
      `${name}: new disk ${diskId} of ${wantedMb} MiB; its new VM's agent copies disk ${disk.disk_cid} (${from} MiB) onto it before mounting`,
    );
  }

  /** After the new VM runs (its agent copied and mounted the new disk): detaches and deletes the old disk. */
  async finish(cluster: ClusterRow, instance: InstanceRow, progress: ReplaceProgress): Promise<void> {
    const disk = await this.store.instances.diskOf(instance.id);
    const old = disk?.grow_from_cid;
    if (!disk || !old) return;
    const target = this.plugins.iaasTarget(cluster.iaas);
    const row = (await this.store.instances.get(instance.id))!;
    if (row.mounted_disk_cid !== disk.disk_cid) {
      throw new SlipwayError(
        'Conflict',
        `${label(row)} does not report the new disk ${disk.disk_cid} mounted (it reports ${row.mounted_disk_cid ?? 'none'}); the old disk ${old} is kept`,
        {
          hint: "Look at the VM's agent log; re-run the task to try again.",
        },
      );
    }
    if (row.vm_cid)
      await this.provisioner.call(
        target,
        `detachDisk ${old}`,
        (o) => target.driver.detachDisk({ vmId: row.vm_cid!, diskId: old }, o),
        { signal: progress.signal },
        progress.log,
      );
    await this.provisioner.call(
      target,
      `deleteDisk ${old}`,
      (o) => target.driver.deleteDisk({ diskId: old }, o),
      { signal: progress.signal },
      progress.log,
    );
    await this.store.db
      .updateTable('disks')
      .set({ grow_from_cid: null, updated_at: isoNow(this.clock) })
      .where('id', '=', disk.id)
      .execute();
    progress.log(`${label(row)}: disk ${old} copied onto ${disk.disk_cid} (${disk.size_mb} MiB) and deleted`);
    await this.event(
      row,
      `persistent disk of ${label(row)} grown to ${disk.size_mb} MiB: its content copied from ${old} onto ${disk.disk_cid}, the old disk deleted`,
    );
  }

  private async setSize(id: string, sizeMb: number): Promise<void> {
    await this.store.db
      .updateTable('disks')
      .set({ size_mb: sizeMb, updated_at: isoNow(this.clock) })
      .where('id', '=', id)
      .execute();
  }

  private async event(instance: InstanceRow, message: string): Promise<void> {
    await this.store.events.record({
      at: isoNow(this.clock),
      cluster_uuid: instance.cluster_uuid,
      instance_id: instance.id,
      kind: 'disk.grown',
      severity: 'info',
      message,
    });
  }
}
