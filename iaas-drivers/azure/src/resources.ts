/** The shapes of the ARM resources the driver reads and writes (the fields it uses). */

export interface ArmResource<P> {
  id: string;
  name: string;
  type: string;
  location: string;
  tags?: Record<string, string>;
  zones?: string[];
  etag?: string;
  /** On a disk: the VM it is attached to. */
  managedBy?: string;
  sku?: { name: string };
  properties: P;
}

export type ProvisioningState =
  | 'Creating'
  | 'Updating'
  | 'Deleting'
  | 'Succeeded'
  | 'Failed'
  | 'Canceled'
  | 'Migrating';

export interface ImageReference {
  id?: string;
  publisher?: string;
  offer?: string;
  sku?: string;
  version?: string;
}

export interface DataDisk {
  lun: number;
  name?: string;
  createOption: 'Attach' | 'Empty' | 'FromImage';
  caching?: 'None' | 'ReadOnly' | 'ReadWrite';
  managedDisk?: { id?: string; storageAccountType?: string };
  diskSizeGB?: number;
  toBeDetached?: boolean;
  deleteOption?: 'Delete' | 'Detach';
}

export interface VirtualMachineProperties {
  vmId?: string;
  provisioningState?: ProvisioningState;
  hardwareProfile: { vmSize: string };
  storageProfile: {
    imageReference?: ImageReference;
    osDisk?: Record<string, unknown>;
    dataDisks?: DataDisk[];
  };
  osProfile?: Record<string, unknown>;
  networkProfile?: {
    networkInterfaces: Array<{ id: string; properties?: { primary?: boolean; deleteOption?: string } }>;
  };
  userData?: string;
  /** Present with `$expand=instanceView`. */
  instanceView?: { statuses?: Array<{ code: string; displayStatus?: string; message?: string }> };
}

export interface DiskProperties {
  creationData: { createOption: string; sourceResourceId?: string };
  diskSizeGB?: number;
  diskState?: 'Unattached' | 'Attached' | 'Reserved' | 'ActiveSAS' | 'ReadyToUpload';
  provisioningState?: ProvisioningState;
}

export interface SnapshotProperties {
  creationData: { createOption: 'Copy'; sourceResourceId: string };
  incremental?: boolean;
  diskSizeGB?: number;
  provisioningState?: ProvisioningState;
}

export interface ImageProperties {
  storageProfile: {
    osDisk: {
      osType: 'Linux';
      osState: 'Generalized';
      blobUri?: string;
      caching?: string;
      storageAccountType?: string;
    };
  };
  hyperVGeneration?: 'V1' | 'V2';
  provisioningState?: ProvisioningState;
}

export interface NetworkInterfaceProperties {
  ipConfigurations: Array<{
    name: string;
    properties: {
      privateIPAllocationMethod: 'Static' | 'Dynamic';
      privateIPAddress?: string;
      subnet: { id: string };
      primary?: boolean;
    };
  }>;
  networkSecurityGroup?: { id: string };
  virtualMachine?: { id: string };
  provisioningState?: ProvisioningState;
}

export interface VmSize {
  name: string;
  numberOfCores: number;
  memoryInMB: number;
  maxDataDiskCount?: number;
}

export type VirtualMachine = ArmResource<VirtualMachineProperties>;
export type Disk = ArmResource<DiskProperties>;
export type Snapshot = ArmResource<SnapshotProperties>;
export type Image = ArmResource<ImageProperties>;
export type NetworkInterface = ArmResource<NetworkInterfaceProperties>;

/** The last segment of a resource id: the resource's name. */
export function nameOf(id: string): string {
  return id.slice(id.lastIndexOf('/') + 1);
}

/** ARM resource ids are case-insensitive, and ARM itself returns them in varying case (resource groups upper-cased). */
export function sameResource(a: string | undefined, b: string | undefined): boolean {
  return a !== undefined && b !== undefined && a.toLowerCase() === b.toLowerCase();
}

/** Power state from an instance view: `PowerState/running` gives `running`. */
export function powerStateOf(vm: VirtualMachine): string | undefined {
  return vm.properties.instanceView?.statuses
    ?.find((s) => s.code.startsWith('PowerState/'))
    ?.code.slice('PowerState/'.length);
}
