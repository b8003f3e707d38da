import { data, xsdString, type MoRef, type SoapData } from './soap.js';

/**
 * Typed builders for the vim25 data objects the driver sends. Each writes its fields in the type's XSD
 * sequence (see soap.ts), and only the fields the driver sets.
 */

/** PropertyFilterSpec reading `paths` of `objects`, all of vim25 type `type` (no traversal: the driver names its objects). */
export function propertyFilter(type: string, paths: readonly string[], objects: readonly MoRef[]): SoapData {
  return data('PropertyFilterSpec', {
    propSet: [data('PropertySpec', { type, all: false, pathSet: [...paths] })],
    objectSet: objects.map((obj) => data('ObjectSpec', { obj, skip: false })),
  });
}

/** The VirtualMachineRelocateSpec of a clone: where the copy lives, and how its disks are made. */
export interface RelocateSpec {
  folder?: MoRef;
  datastore: MoRef;
  /** `createNewChildDiskBacking`: a linked clone (a delta disk on the source's snapshot). Unset: full copies. */
  diskMoveType?: 'createNewChildDiskBacking' | 'moveAllDiskBackingsAndDisallowSharing';
  pool: MoRef;
}

export function relocateSpec(spec: RelocateSpec): SoapData {
  return data('VirtualMachineRelocateSpec', {
    folder: spec.folder,
    datastore: spec.datastore,
    diskMoveType: spec.diskMoveType,
    pool: spec.pool,
  });
}

export interface CloneSpec {
  location: RelocateSpec;
  template: boolean;
  powerOn: boolean;
  /** The source snapshot a linked clone's disks are children of. */
  snapshot?: MoRef;
}

export function cloneSpec(spec: CloneSpec): SoapData {
  return data('VirtualMachineCloneSpec', {
    location: relocateSpec(spec.location),
    template: spec.template,
    powerOn: spec.powerOn,
    snapshot: spec.snapshot,
  });
}

export interface ConfigSpec {
  annotation?: string;
  numCPUs?: number;
  memoryMB?: number;
  deviceChange?: SoapData[];
  /** `guestinfo.*` keys reach the guest through VMware Tools. */
  extraConfig?: Record<string, string>;
}

export function configSpec(spec: ConfigSpec): SoapData {
  return data('VirtualMachineConfigSpec', {
    annotation: spec.annotation,
    numCPUs: spec.numCPUs,
    memoryMB: spec.memoryMB,
    deviceChange: spec.deviceChange,
    extraConfig: spec.extraConfig
      ? Object.entries(spec.extraConfig).map(([key, value]) => data('OptionValue', { key, value: xsdString(value) }))
      : undefined,
  });
}

/** Where a disk sits on its VM: a SCSI controller and a unit on it. */
export interface DiskSlot {
  controllerKey: number;
  unitNumber: number;
}

/**
 * Adds an existing VMDK as an independent-persistent disk: no `fileOperation`, so vCenter opens the file
 * instead of creating one, and independent so VM snapshots never capture it and it outlives the VM.
 */
export function addExistingDisk(fileName: string, datastore: MoRef, slot: DiskSlot): SoapData {
  return data('VirtualDeviceConfigSpec', {
    operation: 'add',
    device: data('VirtualDisk', {
      key: -100 - slot.unitNumber,
      backing: data('VirtualDiskFlatVer2BackingInfo', { fileName, datastore, diskMode: 'independent_persistent' }),
      controllerKey: slot.controllerKey,
      unitNumber: slot.unitNumber,
      // Required by the schema; vCenter takes the size from the file when it attaches one.
      capacityInKB: 0,
    }),
  });
}

/** Removes a disk from a VM without `fileOperation: destroy`, so its file stays on the datastore. */
export function removeDisk(disk: {
  key: number;
  fileName: string;
  diskMode: string;
  controllerKey?: number;
  unitNumber?: number;
  capacityInKB?: number;
}): SoapData {
  return data('VirtualDeviceConfigSpec', {
    operation: 'remove',
    device: data('VirtualDisk', {
      key: disk.key,
      backing: data('VirtualDiskFlatVer2BackingInfo', { fileName: disk.fileName, diskMode: disk.diskMode }),
      controllerKey: disk.controllerKey,
      unitNumber: disk.unitNumber,
      capacityInKB: disk.capacityInKB ?? 0,
    }),
  });
}

/** The spec of a new thin-provisioned VMDK. */
export function fileBackedDiskSpec(capacityKb: number): SoapData {
  return data('FileBackedVirtualDiskSpec', { diskType: 'thin', adapterType: 'lsiLogic', capacityKb });
}

/** A datastore browser search for VMDKs whose names match `pattern`, with their capacity. */
export function diskSearchSpec(pattern: string): SoapData {
  return data('HostDatastoreBrowserSearchSpec', {
    query: [
      data('VmDiskFileQuery', {
        details: data('VmDiskFileQueryFlags', { diskType: true, capacityKb: true, hardwareVersion: false }),
      }),
    ],
    details: data('FileQueryFlags', { fileType: true, fileSize: true, modification: false }),
    matchPattern: [pattern],
  });
}
