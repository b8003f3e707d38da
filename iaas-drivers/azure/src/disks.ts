import {
  SlipwayError,
  throwIfAborted,
  type CallOptions,
  type CloudInventory,
  type CreateDiskInput,
  type DiskHint,
} from '@slipway/contracts';
import { gibFromMib, stringProperty, type AzureContext } from './context.js';
import { PLUGIN, isOperationFailure } from './errors.js';
import { REQUEST_ID_TAG, hasTags, resourceName, tagsOf } from './naming.js';
import { nameOf, sameResource, type DataDisk, type Disk, type Snapshot, type VirtualMachine } from './resources.js';

/**
 * The VMBus id of the SCSI controller Azure attaches data disks to. With the LUN it names the device: the
 * agent finds the disk as /dev/disk/azure/scsi1/lun<N> (the Azure Linux agent's udev rules), or under
 * /sys/bus/vmbus/devices/<this id> where those rules are missing.
 */
export const DATA_DISK_HOST_DEVICE_ID = '{f8b3781b-1e82-4818-a1c3-63d806ec15bb}';

/** Azure allows LUNs 0..63; the VM size decides how many disks fit (maxDataDiskCount), which ARM checks. */
const MAX_LUN = 63;

/** The persistent-disk verbs on Microsoft.Compute/disks and snapshots, attached through the VM's storageProfile.dataDisks. */
export class DiskOperations {
  constructor(private readonly ctx: AzureContext) {}

  /** Idempotent by name (derived from the request id); a disk for a zonal VM is created in that VM's zone. */
  async create(input: CreateDiskInput, options: CallOptions = {}): Promise<{ diskId: string }> {
    const { signal, requestId } = options;
    throwIfAborted(signal);
    const api = this.ctx.api;
    const name = resourceName('slipway-disk', requestId);
    const existing = await api.get<Disk>('disk', name, { signal });
    if (existing) {
      await api.complete('disk', name, 'PUT', { status: 200, headers: {}, body: existing }, 'Disks_CreateOrUpdate', {
        signal,
        permanent: 'DiskError',
      });
      return { diskId: name };
    }
    const zone =
      input.zone ??
      (input.vmId ? await this.vmZone(input.vmId, signal) : undefined) ??
      stringProperty(input.cloudProperties, 'zone');
    const sku =
      stringProperty(input.cloudProperties, 'storage_account_type') ??
      this.ctx.config.storage_account_type ??
      'StandardSSD_LRS';
    const started = await api.beginCreateOrUpdate<Disk>(
      'disk',
      name,
      {
        location: this.ctx.config.location,
        sku: { name: sku },
        tags: tagsOf({ ...input.metadata, [REQUEST_ID_TAG]: requestId }),
        ...(zone ? { zones: [zone] } : {}),
        properties: { creationData: { createOption: 'Empty' }, diskSizeGB: gibFromMib(input.sizeMb) },
      },
      { signal, permanent: 'DiskError' },
    );
    try {
      await api.complete('disk', name, 'PUT', started, 'Disks_CreateOrUpdate', { signal, permanent: 'DiskError' });
    } catch (error) {
      if (!signal?.aborted && isOperationFailure(error)) await api.delete('disk', name).catch(() => undefined);
      throw error;
    }
    return { diskId: name };
  }

  /** ARM refuses to delete an attached disk (409 OperationNotAllowed), which maps to `Conflict`. */
  async delete(diskId: string, options: CallOptions = {}): Promise<void> {
    await this.ctx.api.delete('disk', diskId, { signal: options.signal, permanent: 'DiskError' });
  }

  /**
   * Adds the disk to the VM's `storageProfile.dataDisks` at the lowest free LUN (PATCH, If-Match on the VM's
   * etag so two attaches cannot overwrite each other's list). Already attached to this VM: its LUN, no call.
   */
  async attach(vmId: string, diskId: string, options: CallOptions = {}): Promise<{ hint: DiskHint }> {
    const { signal } = options;
    const api = this.ctx.api;
    const vm = await this.requireVm(vmId, signal);
    const disks = vm.properties.storageProfile.dataDisks ?? [];
    const diskResourceId = api.id('disk', diskId);
    const present = disks.find((d) => sameResource(d.managedDisk?.id, diskResourceId));
    if (present && !present.toBeDetached) return { hint: hintOf(present.lun) };
    const lun = freeLun(disks);
    if (lun === undefined)
      throw new SlipwayError('DiskError', `VM ${vmId} uses every LUN (0..${MAX_LUN})`, { plugin: PLUGIN });
    const next: DataDisk[] = [
      ...disks.filter((d) => !d.toBeDetached).map(keptDisk),
      { lun, createOption: 'Attach', caching: 'None', managedDisk: { id: diskResourceId } },
    ];
    await api.update<VirtualMachine>(
      'virtualMachine',
      vmId,
      { properties: { storageProfile: { dataDisks: next } } },
      { signal, ifMatch: vm.etag, permanent: 'DiskError' },
    );
    return { hint: hintOf(lun) };
  }

  /** Removes the disk from the VM's data disks; not attached, or the VM gone: nothing to do. */
  async detach(vmId: string, diskId: string, options: CallOptions = {}): Promise<void> {
    const { signal } = options;
    const api = this.ctx.api;
    const vm = await api.get<VirtualMachine>('virtualMachine', vmId, { signal });
    if (!vm) return;
    const disks = vm.properties.storageProfile.dataDisks ?? [];
    const diskResourceId = api.id('disk', diskId);
    if (!disks.some((d) => sameResource(d.managedDisk?.id, diskResourceId))) return;
    const next = disks.filter((d) => !sameResource(d.managedDisk?.id, diskResourceId) && !d.toBeDetached).map(keptDisk);
    await api.update<VirtualMachine>(
      'virtualMachine',
      vmId,
      { properties: { storageProfile: { dataDisks: next } } },
      { signal, ifMatch: vm.etag, permanent: 'DiskError' },
    );
  }

  async exists(diskId: string, options: CallOptions = {}): Promise<boolean> {
    return (await this.ctx.api.get<Disk>('disk', diskId, { signal: options.signal })) !== undefined;
  }

  async ofVm(vmId: string, options: CallOptions = {}): Promise<string[]> {
    const vm = await this.requireVm(vmId, options.signal);
    return (vm.properties.storageProfile.dataDisks ?? [])
      .filter((d) => !d.toBeDetached && d.managedDisk?.id)
      .map((d) => nameOf(d.managedDisk!.id!));
  }

  /** PATCH diskSizeGB. Managed disks only grow; the same size (after rounding to GiB) needs no call. */
  async resize(diskId: string, sizeMb: number, options: CallOptions = {}): Promise<void> {
    const { signal } = options;
    const disk = await this.ctx.api.get<Disk>('disk', diskId, { signal });
    if (!disk) throw new SlipwayError('NotFound', `disk ${diskId} does not exist`, { plugin: PLUGIN });
    const sizeGb = gibFromMib(sizeMb);
    const current = disk.properties.diskSizeGB ?? 0;
    if (current === sizeGb) return;
    if (current > sizeGb) {
      throw new SlipwayError(
        'InvalidInput',
        `disk ${diskId} has ${current} GiB; Azure cannot shrink a managed disk to ${sizeGb} GiB`,
        { plugin: PLUGIN, field: 'sizeMb' },
      );
    }
    await this.ctx.api.update<Disk>(
      'disk',
      diskId,
      { properties: { diskSizeGB: sizeGb } },
      { signal, permanent: 'DiskError' },
    );
  }

  /** An incremental snapshot (a copy of the disk's changed blocks), named after the request id. */
  async snapshot(
    diskId: string,
    metadata: Record<string, string> | undefined,
    options: CallOptions = {},
  ): Promise<{ snapshotId: string }> {
    const { signal, requestId } = options;
    throwIfAborted(signal);
    const api = this.ctx.api;
    const name = resourceName('slipway-snap', requestId);
    const existing = await api.get<Snapshot>('snapshot', name, { signal });
    if (existing) {
      await api.complete(
        'snapshot',
        name,
        'PUT',
        { status: 200, headers: {}, body: existing },
        'Snapshots_CreateOrUpdate',
        { signal, permanent: 'DiskError' },
      );
      return { snapshotId: name };
    }
    await api.createOrUpdate<Snapshot>(
      'snapshot',
      name,
      {
        location: this.ctx.config.location,
        sku: { name: 'Standard_LRS' },
        tags: tagsOf({ ...metadata, [REQUEST_ID_TAG]: requestId, 'slipway.source_disk': diskId }),
        properties: {
          creationData: { createOption: 'Copy', sourceResourceId: api.id('disk', diskId) },
          incremental: true,
        },
      },
      { signal, permanent: 'DiskError' },
    );
    return { snapshotId: name };
  }

  async deleteSnapshot(snapshotId: string, options: CallOptions = {}): Promise<void> {
    await this.ctx.api.delete('snapshot', snapshotId, { signal: options.signal, permanent: 'DiskError' });
  }

  /** Disks of the resource group carrying every pair of `tags`, with their size and the VM they are on. */
  async list(tags: Record<string, string>, signal?: AbortSignal): Promise<CloudInventory['disks']> {
    const disks = await this.ctx.api.list<Disk>('disk', { signal });
    return disks
      .filter((d) => hasTags(d.tags, tags))
      .map((d) => ({
        diskId: d.name,
        ...(d.managedBy ? { vmId: nameOf(d.managedBy) } : {}),
        metadata: d.tags ?? {},
        ...(d.properties.diskSizeGB !== undefined ? { sizeMb: d.properties.diskSizeGB * 1024 } : {}),
      }));
  }

  private async requireVm(vmId: string, signal?: AbortSignal): Promise<VirtualMachine> {
    const vm = await this.ctx.api.get<VirtualMachine>('virtualMachine', vmId, { signal });
    if (!vm) throw new SlipwayError('NotFound', `VM ${vmId} does not exist`, { plugin: PLUGIN });
    return vm;
  }

  private async vmZone(vmId: string, signal?: AbortSignal): Promise<string | undefined> {
    return (await this.ctx.api.get<VirtualMachine>('virtualMachine', vmId, { signal }))?.zones?.[0];
  }
}

function hintOf(lun: number): DiskHint {
  return { kind: 'lun', lun, hostDeviceId: DATA_DISK_HOST_DEVICE_ID };
}

function freeLun(disks: DataDisk[]): number | undefined {
  const used = new Set(disks.filter((d) => !d.toBeDetached).map((d) => d.lun));
  for (let lun = 0; lun <= MAX_LUN; lun++) if (!used.has(lun)) return lun;
  return undefined;
}

/** An attached disk as it is sent back in the PATCH's full list: by id, with what the VM reported. */
function keptDisk(disk: DataDisk): DataDisk {
  return {
    lun: disk.lun,
    createOption: 'Attach',
    caching: disk.caching ?? 'None',
    managedDisk: { id: disk.managedDisk?.id },
    ...(disk.name ? { name: disk.name } : {}),
    ...(disk.deleteOption ? { deleteOption: disk.deleteOption } : {}),
  };
}
