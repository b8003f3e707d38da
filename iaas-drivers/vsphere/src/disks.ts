import { SlipwayError, type CallOptions, type CreateDiskInput, type DiskHint } from '@slipway/contracts';
import { runTask, type VsphereContext } from './context.js';
import {
  SCSI_CONTROLLER_TYPES,
  readDevices,
  readSearchResults,
  type FoundFile,
  type VirtualDeviceInfo,
} from './decode.js';
import { PLUGIN } from './errors.js';
import type { Placement } from './inventory.js';
import { checkDiskId, devicePathOfUuid, diskFolderPath, diskIdOfPath, diskPath, newDiskId } from './naming.js';
import { faultTypeOf } from './session.js';
import { Memo, throwIfCancelled, withSignal } from './signals.js';
import type { MoRef } from './soap.js';
import { addExistingDisk, configSpec, diskSearchSpec, fileBackedDiskSpec, removeDisk, type DiskSlot } from './specs.js';
import { DEFAULT_DISK_FOLDER, persistentDisks, type VmOperations } from './vms.js';

/** SCSI unit 7 is the controller itself; units 0-15 on each controller. */
const SCSI_UNITS = Array.from({ length: 16 }, (_, i) => i).filter((u) => u !== 7);

/**
 * Persistent disks as independent VMDK files in a datastore folder (`[ds] slipway-disks/disk-<id>.vmdk`),
 * so they outlive every VM: VirtualDiskManager creates, extends and deletes them, ReconfigVM_Task attaches
 * (an existing file, independent_persistent) and detaches (without destroying the file), the datastore
 * browser answers whether one exists.
 */
export class DiskOperations {
  private readonly folderReady: Memo<void>;

  constructor(
    private readonly ctx: VsphereContext,
    private readonly vms: VmOperations,
  ) {
    this.folderReady = new Memo(async () => {
      const placement = await ctx.inventory.placement();
      await ctx.vim.makeDirectory(this.folderPath(placement), placement.datacenter, {
        signal: AbortSignal.timeout(60_000),
      });
    });
  }

  private get folder(): string {
    return this.ctx.config.disk_folder ?? DEFAULT_DISK_FOLDER;
  }

  /**
   * CreateVirtualDisk_Task of a thin VMDK. Idempotent through the file name, derived from the request id:
   * FileAlreadyExists means an earlier attempt of this request made it.
   */
  async create(input: CreateDiskInput, options: CallOptions = {}): Promise<{ diskId: string }> {
    const { signal, requestId } = options;
    throwIfCancelled('createDisk', signal);
    if (!Number.isInteger(input.sizeMb) || input.sizeMb < 1) {
      throw new SlipwayError('InvalidInput', `a disk of ${input.sizeMb} MiB cannot be made`, {
        plugin: PLUGIN,
        field: 'sizeMb',
      });
    }
    const placement = await this.ctx.inventory.placement(signal);
    const diskId = newDiskId(requestId);
    const path = this.path(placement, diskId);
    await withSignal(this.folderReady.get(), signal, 'MakeDirectory');
    for (let attempt = 0; ; attempt++) {
      try {
        await runTask(
          this.ctx,
          'CreateVirtualDisk_Task',
          this.ctx.vim.createVirtualDisk(path, placement.datacenter, fileBackedDiskSpec(input.sizeMb * 1024), {
            signal,
            permanent: 'DiskError',
          }),
          { signal, permanent: 'DiskError' },
        );
        return { diskId };
      } catch (error) {
        if (faultTypeOf(error) === 'FileAlreadyExists' && requestId) return { diskId };
        if (faultTypeOf(error) === 'FileNotFound' && attempt === 0) {
          // The disk folder was removed behind our back: make it again, once.
          this.folderReady.clear();
          await withSignal(this.folderReady.get(), signal, 'MakeDirectory');
          continue;
        }
        throw error;
      }
    }
  }

  /** DeleteVirtualDisk_Task; a missing file is success. vCenter refuses a disk a running VM holds (FileLocked: Conflict). */
  async delete(diskId: string, options: CallOptions = {}): Promise<void> {
    const { signal } = options;
    checkDiskId(diskId);
    const placement = await this.ctx.inventory.placement(signal);
    try {
      await runTask(
        this.ctx,
        'DeleteVirtualDisk_Task',
        this.ctx.vim.deleteVirtualDisk(this.path(placement, diskId), placement.datacenter, {
          signal,
          permanent: 'DiskError',
        }),
        { signal, permanent: 'DiskError' },
      );
    } catch (error) {
      if (faultTypeOf(error) === 'FileNotFound') return;
      throw error;
    }
  }

  /**
   * ReconfigVM_Task adding the existing file as an independent-persistent disk on a free SCSI unit.
   * The hint is the disk's /dev/disk/by-id/wwn-0x<VMDK UUID> path (createVm sets `disk.EnableUUID`).
   */
  async attach(vmId: string, diskId: string, options: CallOptions = {}): Promise<{ hint: DiskHint }> {
    const { signal } = options;
    checkDiskId(diskId);
    const placement = await this.ctx.inventory.placement(signal);
    const vm = await this.vms.require(vmId, signal);
    const path = this.path(placement, diskId);
    const devices = await this.devices(vm, vmId, signal);
    const present = devices.find((d) => d.backing?.fileName === path);
    if (present) return { hint: hintOf(present) };
    const spec = configSpec({
      deviceChange: [addExistingDisk(path, placement.diskDatastore, freeSlot(devices, vmId))],
    });
    await runTask(this.ctx, 'ReconfigVM_Task', this.ctx.vim.reconfigVm(vm, spec, { signal, permanent: 'DiskError' }), {
      signal,
      permanent: 'DiskError',
    });
    const attached = (await this.devices(vm, vmId, signal)).find((d) => d.backing?.fileName === path);
    if (!attached)
      throw new SlipwayError('DiskError', `vSphere reconfigured VM ${vmId} but ${path} is not among its disks`, {
        plugin: PLUGIN,
      });
    return { hint: hintOf(attached) };
  }

  /** ReconfigVM_Task removing the disk without a fileOperation, so the file stays. Not attached, or no VM: success. */
  async detach(vmId: string, diskId: string, options: CallOptions = {}): Promise<void> {
    const { signal } = options;
    checkDiskId(diskId);
    const placement = await this.ctx.inventory.placement(signal);
    const vm = await this.vms.find(vmId, signal);
    if (!vm) return;
    const props = await this.ctx.vim.propertiesOf(vm, ['config.hardware.device'], { signal });
    if (!props) return;
    const disk = readDevices(props.get('config.hardware.device')).find(
      (d) => d.backing?.fileName === this.path(placement, diskId),
    );
    if (!disk) return;
    const spec = configSpec({
      deviceChange: [
        removeDisk({
          ...disk,
          fileName: disk.backing!.fileName!,
          diskMode: disk.backing!.diskMode ?? 'independent_persistent',
        }),
      ],
    });
    try {
      await runTask(
        this.ctx,
        'ReconfigVM_Task',
        this.ctx.vim.reconfigVm(vm, spec, { signal, permanent: 'DiskError' }),
        { signal, permanent: 'DiskError' },
      );
    } catch (error) {
      if (faultTypeOf(error) !== 'ManagedObjectNotFound') throw error;
    }
  }

  /** SearchDatastore_Task in the disk folder for the disk's file. */
  async exists(diskId: string, options: CallOptions = {}): Promise<boolean> {
    checkDiskId(diskId);
    return (await this.findFile(diskId, options.signal)) !== undefined;
  }

  /** The persistent disks among the VM's `config.hardware.device`. */
  async ofVm(vmId: string, options: CallOptions = {}): Promise<string[]> {
    const { signal } = options;
    const placement = await this.ctx.inventory.placement(signal);
    const vm = await this.vms.require(vmId, signal);
    return persistentDisks(this.ctx, await this.devices(vm, vmId, signal)).map(
      (d) => diskIdOfPath(d.backing!.fileName!, placement.diskDatastoreName, this.folder)!,
    );
  }

  /**
   * ExtendVirtualDisk_Task to the new size (VMDKs only grow). vCenter cannot extend a file a running VM
   * holds open (FileLocked: Conflict); the engine resizes detached disks, as BOSH does.
   */
  async resize(diskId: string, sizeMb: number, options: CallOptions = {}): Promise<void> {
    const { signal } = options;
    checkDiskId(diskId);
    const found = await this.findFile(diskId, signal);
    if (!found)
      throw new SlipwayError('NotFound', `vSphere persistent disk ${diskId} does not exist`, {
        plugin: PLUGIN,
        field: 'diskId',
      });
    const newKb = sizeMb * 1024;
    if (found.capacityKb === newKb) return;
    if (found.capacityKb !== undefined && found.capacityKb > newKb) {
      throw new SlipwayError(
        'InvalidInput',
        `disk ${diskId} has ${Math.round(found.capacityKb / 1024)} MiB; a VMDK cannot shrink to ${sizeMb} MiB`,
        { plugin: PLUGIN, field: 'sizeMb' },
      );
    }
    const placement = await this.ctx.inventory.placement(signal);
    await runTask(
      this.ctx,
      'ExtendVirtualDisk_Task',
      this.ctx.vim.extendVirtualDisk(this.path(placement, diskId), placement.datacenter, newKb, {
        signal,
        permanent: 'DiskError',
      }),
      { signal, permanent: 'DiskError' },
    );
  }

  private async findFile(diskId: string, signal?: AbortSignal): Promise<FoundFile | undefined> {
    return (await this.search(`${diskId}.vmdk`, signal)).find((f) => f.path === `${diskId}.vmdk`);
  }

  private async search(pattern: string, signal?: AbortSignal): Promise<FoundFile[]> {
    const placement = await this.ctx.inventory.placement(signal);
    try {
      const result = await runTask(
        this.ctx,
        'SearchDatastore_Task',
        this.ctx.vim.searchDatastore(placement.diskBrowser, this.folderPath(placement), diskSearchSpec(pattern), {
          signal,
        }),
        { signal },
      );
      return readSearchResults(result);
    } catch (error) {
      // No disk folder yet: no disks.
      if (faultTypeOf(error) === 'FileNotFound') return [];
      throw error;
    }
  }

  private async devices(vm: MoRef, vmId: string, signal?: AbortSignal): Promise<VirtualDeviceInfo[]> {
    const props = await this.ctx.vim.propertiesOf(vm, ['config.hardware.device'], { signal });
    if (!props)
      throw new SlipwayError('NotFound', `vSphere VM ${vmId} does not exist`, { plugin: PLUGIN, field: 'vmId' });
    return readDevices(props.get('config.hardware.device'));
  }

  private path(placement: Placement, diskId: string): string {
    return diskPath(placement.diskDatastoreName, this.folder, diskId);
  }

  private folderPath(placement: Placement): string {
    return diskFolderPath(placement.diskDatastoreName, this.folder);
  }
}

/** The first free unit on the VM's SCSI controllers, by bus number. */
function freeSlot(devices: VirtualDeviceInfo[], vmId: string): DiskSlot {
  const controllers = devices
    .filter((d) => SCSI_CONTROLLER_TYPES.has(d.type))
    .sort((a, b) => (a.busNumber ?? 0) - (b.busNumber ?? 0));
  if (controllers.length === 0) {
    throw new SlipwayError(
      'DiskError',
      `vSphere VM ${vmId} has no SCSI controller to attach a disk to; give the stemcell's template one`,
      { plugin: PLUGIN },
    );
  }
  for (const controller of controllers) {
    const used = new Set(devices.filter((d) => d.controllerKey === controller.key).map((d) => d.unitNumber));
    const unit = SCSI_UNITS.find((u) => !used.has(u));
    if (unit !== undefined) return { controllerKey: controller.key, unitNumber: unit };
  }
  throw new SlipwayError(
    'DiskError',
    `vSphere VM ${vmId} has no free SCSI unit left (${controllers.length} controller(s), 15 units each)`,
    { plugin: PLUGIN },
  );
}

/** The by-id path when vCenter reports the disk's UUID; otherwise its SCSI unit number. */
function hintOf(disk: VirtualDeviceInfo): DiskHint {
  if (disk.backing?.uuid) return { kind: 'path', path: devicePathOfUuid(disk.backing.uuid) };
  return { kind: 'lun', lun: disk.unitNumber ?? 0 };
}
