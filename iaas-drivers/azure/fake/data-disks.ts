import { ArmHttpError, objectAt } from './http.js';
import type { FakeContext } from './routes.js';
import { VM_SIZES, type FakeDataDisk, type FakeVm } from './state.js';

/**
 * Validates a VM's new `storageProfile.dataDisks` list (PUT or PATCH replaces it whole) the way Compute does:
 * LUNs unique in 0..63, existing managed disks attached with `Attach`, free or already on this VM, in the VM's
 * zone, and no more than the size allows. Entries with `toBeDetached: true` are being detached.
 */
export function checkDataDisks(
  ctx: FakeContext,
  vm: Pick<FakeVm, 'name' | 'zones' | 'vmSize'>,
  value: unknown,
): FakeDataDisk[] {
  if (value === undefined) return [];
  if (!Array.isArray(value))
    throw new ArmHttpError(400, 'InvalidParameter', 'The value of parameter dataDisks is invalid.', {}, 'dataDisks');
  const vmKey = ctx.state.vmId(vm.name).toLowerCase();
  const out: FakeDataDisk[] = [];
  for (const raw of value) {
    const entry = objectAt(raw);
    if (entry.toBeDetached === true) continue;
    const lun = entry.lun;
    if (typeof lun !== 'number' || !Number.isInteger(lun) || lun < 0 || lun > 63) {
      throw new ArmHttpError(
        400,
        'InvalidParameter',
        'The value of parameter dataDisk.lun is invalid.',
        {},
        'dataDisks',
      );
    }
    if (out.some((d) => d.lun === lun))
      throw new ArmHttpError(400, 'InvalidParameter', `A disk at LUN ${lun} already exists.`, {}, 'dataDisks');
    if (entry.createOption !== 'Attach') {
      throw new ArmHttpError(
        400,
        'InvalidParameter',
        `The value '${String(entry.createOption)}' of parameter createOption is not supported for data disk at LUN ${lun} by this fake; attach an existing managed disk.`,
        {},
        'createOption',
      );
    }
    const id = objectAt(entry.managedDisk).id;
    const key = typeof id === 'string' ? ctx.state.byId('disk', id) : undefined;
    const disk = key ? ctx.state.disks.get(key) : undefined;
    if (!disk) throw new ArmHttpError(404, 'NotFound', `Disk '${String(id)}' was not found.`, {}, 'managedDisk.id');
    const twice = out.find((d) => d.diskKey === key);
    if (twice)
      throw new ArmHttpError(
        400,
        'InvalidParameter',
        `Disk '${disk.name}' is already attached at LUN ${twice.lun}; a disk can be attached once.`,
        {},
        'dataDisks',
      );
    if (disk.osType)
      throw new ArmHttpError(
        400,
        'InvalidParameter',
        `Disk '${disk.name}' is an OS disk and cannot be attached as a data disk.`,
        {},
        'dataDisks',
      );
    if (disk.provisioningState !== 'Succeeded')
      throw new ArmHttpError(
        409,
        'AnotherOperationInProgress',
        `Disk '${disk.name}' is in the middle of another operation.`,
      );
    if (disk.managedBy && disk.managedBy !== vmKey) {
      throw new ArmHttpError(
        409,
        'OperationNotAllowed',
        `Cannot attach data disk '${disk.name}' to VM '${vm.name}' because the disk is already owned by VM '${ctx.state.vmId(nameOf(disk.managedBy))}'.`,
        {},
        'dataDisks',
      );
    }
    if (disk.zones?.[0] !== vm.zones?.[0]) {
      throw new ArmHttpError(
        400,
        'InvalidParameter',
        `Disk '${disk.name}' cannot be attached to VM '${vm.name}' because they are not in the same availability zone.`,
        {},
        'dataDisks',
      );
    }
    out.push({
      lun,
      diskKey: key!,
      caching: typeof entry.caching === 'string' ? entry.caching : 'None',
      deleteOption: entry.deleteOption === 'Delete' ? 'Delete' : 'Detach',
    });
  }
  const max = VM_SIZES.find((s) => s.name === vm.vmSize)?.maxDataDiskCount ?? 64;
  if (out.length > max) {
    throw new ArmHttpError(
      409,
      'OperationNotAllowed',
      `The maximum number of data disks allowed to be attached to a VM of this size is ${max}.`,
      {},
      'dataDisks',
    );
  }
  return out;
}

/** Applies a VM's new data-disk list to the disks: those added become Attached to it, those dropped Unattached. */
export function applyDataDisks(ctx: FakeContext, vm: FakeVm, next: FakeDataDisk[]): void {
  const vmKey = ctx.state.vmId(vm.name).toLowerCase();
  for (const old of vm.dataDisks) {
    if (next.some((d) => d.diskKey === old.diskKey)) continue;
    const disk = ctx.state.disks.get(old.diskKey);
    if (disk?.managedBy === vmKey) delete disk.managedBy;
  }
  for (const entry of next) {
    const disk = ctx.state.disks.get(entry.diskKey);
    if (disk) disk.managedBy = vmKey;
  }
  vm.dataDisks = next;
}

function nameOf(id: string): string {
  return id.slice(id.lastIndexOf('/') + 1);
}
