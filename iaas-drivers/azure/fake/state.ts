import { randomUUID } from 'node:crypto';

export type ProvisioningState = 'Creating' | 'Updating' | 'Deleting' | 'Succeeded' | 'Failed';
export type PowerState = 'starting' | 'running' | 'stopping' | 'stopped' | 'deallocating' | 'deallocated';

export interface FakeDataDisk {
  lun: number;
  /** Lower-cased resource id of the managed disk. */
  diskKey: string;
  caching: string;
  deleteOption: 'Delete' | 'Detach';
}

/** A Microsoft.Compute/virtualMachines resource as the fake holds it. */
export interface FakeVm {
  name: string;
  location: string;
  tags: Record<string, string>;
  zones?: string[];
  vmId: string;
  vmSize: string;
  imageReference: Record<string, string>;
  osDisk: {
    name: string;
    storageAccountType: string;
    diskSizeGB?: number;
    deleteOption: 'Delete' | 'Detach';
    caching: string;
  };
  dataDisks: FakeDataDisk[];
  osProfile: { computerName: string; adminUsername: string; linuxConfiguration: Record<string, unknown> };
  /** Base64 as given; ARM never returns customData, and userData only with `$expand=userData`. */
  customData?: string;
  userData?: string;
  nics: Array<{ key: string; primary: boolean; deleteOption: 'Delete' | 'Detach' }>;
  provisioningState: ProvisioningState;
  powerState: PowerState;
  etag: number;
  timeCreated: string;
}

/** A managed disk (Microsoft.Compute/disks). */
export interface FakeDisk {
  name: string;
  location: string;
  sku: string;
  zones?: string[];
  tags: Record<string, string>;
  sizeGb: number;
  createOption: string;
  sourceResourceId?: string;
  provisioningState: ProvisioningState;
  /** Lower-cased id of the VM it is attached to. */
  managedBy?: string;
  uniqueId: string;
  timeCreated: string;
  /** An OS disk the VM created from its image. */
  osType?: 'Linux';
}

export interface FakeSnapshot {
  name: string;
  location: string;
  sku: string;
  tags: Record<string, string>;
  sourceResourceId: string;
  incremental: boolean;
  sizeGb: number;
  provisioningState: ProvisioningState;
  timeCreated: string;
}

export interface FakeImage {
  name: string;
  location: string;
  tags: Record<string, string>;
  osType: string;
  osState: string;
  blobUri: string;
  storageAccountType?: string;
  hyperVGeneration: 'V1' | 'V2';
  provisioningState: ProvisioningState;
}

export interface FakeNic {
  name: string;
  location: string;
  tags: Record<string, string>;
  subnetId: string;
  privateIp: string;
  allocation: 'Static' | 'Dynamic';
  nsgId?: string;
  provisioningState: ProvisioningState;
  /** Lower-cased id of the VM using it. */
  vmKey?: string;
  macAddress: string;
  etag: string;
}

export interface FakeSubnet {
  id: string;
  /** `10.0.0.0/8`. */
  addressPrefix: string;
}

export interface FakeVmSize {
  name: string;
  numberOfCores: number;
  memoryInMB: number;
  maxDataDiskCount: number;
  resourceDiskSizeInMB: number;
}

export interface PlatformImage {
  publisher: string;
  offer: string;
  sku: string;
  versions: string[];
}

export interface FakeToken {
  value: string;
  clientId: string;
  tenantId: string;
  expiresAt: number;
}

/** Sizes from the D, B, E, F and A families; the cores and memory Azure publishes for them. */
export const VM_SIZES: readonly FakeVmSize[] = Object.freeze([
  { name: 'Standard_B1s', numberOfCores: 1, memoryInMB: 1024, maxDataDiskCount: 2, resourceDiskSizeInMB: 4096 },
  { name: 'Standard_A1_v2', numberOfCores: 1, memoryInMB: 2048, maxDataDiskCount: 2, resourceDiskSizeInMB: 10240 },
  { name: 'Standard_B2s', numberOfCores: 2, memoryInMB: 4096, maxDataDiskCount: 4, resourceDiskSizeInMB: 8192 },
  { name: 'Standard_F2s_v2', numberOfCores: 2, memoryInMB: 4096, maxDataDiskCount: 4, resourceDiskSizeInMB: 16384 },
  { name: 'Standard_D2s_v5', numberOfCores: 2, memoryInMB: 8192, maxDataDiskCount: 4, resourceDiskSizeInMB: 0 },
  { name: 'Standard_E2s_v5', numberOfCores: 2, memoryInMB: 16384, maxDataDiskCount: 4, resourceDiskSizeInMB: 0 },
  { name: 'Standard_D4s_v5', numberOfCores: 4, memoryInMB: 16384, maxDataDiskCount: 8, resourceDiskSizeInMB: 0 },
  { name: 'Standard_D8s_v5', numberOfCores: 8, memoryInMB: 32768, maxDataDiskCount: 16, resourceDiskSizeInMB: 0 },
]);

/**
 * Everything the fake cloud holds: one subscription, one resource group, one region. Keys are lower-cased
 * names: ARM names and ids are case-insensitive. One instance per startFake(); nothing at module level.
 */
export class FakeAzureState {
  readonly vms = new Map<string, FakeVm>();
  readonly disks = new Map<string, FakeDisk>();
  readonly snapshots = new Map<string, FakeSnapshot>();
  readonly images = new Map<string, FakeImage>();
  readonly nics = new Map<string, FakeNic>();
  readonly tokens = new Map<string, FakeToken>();
  readonly subnets: FakeSubnet[] = [];
  readonly platformImages: PlatformImage[] = [];
  /** VHD page blobs that exist in the fake's storage account, by URL. */
  readonly blobs = new Set<string>();
  readonly quota: { vms?: number; disks?: number } = {};

  constructor(
    readonly subscriptionId: string,
    readonly resourceGroup: string,
    readonly location: string,
    readonly zones: readonly string[],
    readonly app: { tenantId: string; clientId: string; clientSecret: string },
  ) {}

  groupId(): string {
    return `/subscriptions/${this.subscriptionId}/resourceGroups/${this.resourceGroup}`;
  }

  vmId(name: string): string {
    return `${this.groupId()}/providers/Microsoft.Compute/virtualMachines/${name}`;
  }

  diskId(name: string): string {
    return `${this.groupId()}/providers/Microsoft.Compute/disks/${name}`;
  }

  snapshotId(name: string): string {
    return `${this.groupId()}/providers/Microsoft.Compute/snapshots/${name}`;
  }

  imageId(name: string): string {
    return `${this.groupId()}/providers/Microsoft.Compute/images/${name}`;
  }

  nicId(name: string): string {
    return `${this.groupId()}/providers/Microsoft.Network/networkInterfaces/${name}`;
  }

  /** The resource a full id points at in this resource group, by kind, or undefined. */
  byId<K extends 'disk' | 'image' | 'nic' | 'vm' | 'snapshot'>(kind: K, id: string | undefined): string | undefined {
    if (!id) return undefined;
    const paths = {
      disk: 'microsoft.compute/disks',
      image: 'microsoft.compute/images',
      nic: 'microsoft.network/networkinterfaces',
      vm: 'microsoft.compute/virtualmachines',
      snapshot: 'microsoft.compute/snapshots',
    };
    const prefix = `${this.groupId()}/providers/${paths[kind]}/`.toLowerCase();
    const lower = id.toLowerCase();
    return lower.startsWith(prefix) && !lower.slice(prefix.length).includes('/')
      ? lower.slice(prefix.length)
      : undefined;
  }

  /** VMs that count against the quota and answer GET: everything not yet removed. */
  liveVms(): FakeVm[] {
    return [...this.vms.values()];
  }

  /** Which NIC holds a private IP in a subnet, for Network's PrivateIPAddressInUse check. */
  nicWithIp(subnetId: string, ip: string): FakeNic | undefined {
    return [...this.nics.values()].find(
      (n) => n.subnetId.toLowerCase() === subnetId.toLowerCase() && n.privateIp === ip,
    );
  }
}

export function newGuid(): string {
  return randomUUID();
}

/** ARM timestamps: ISO 8601 with 7 fractional digits, as Azure prints them. */
export function armTime(date = new Date()): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$10000+00:00');
}
