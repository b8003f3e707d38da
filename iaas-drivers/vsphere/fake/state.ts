import { randomBytes, randomUUID } from 'node:crypto';
import type { MoRef } from '../src/soap.js';
import { VimFaultError } from './faults.js';
import { ref } from './xml-out.js';

/** A virtual device as the fake holds it (the types the fake's VMs have). */
export interface FakeDevice {
  key: number;
  type: 'VirtualDisk' | 'ParaVirtualSCSIController' | 'VirtualVmxnet3';
  label: string;
  controllerKey?: number;
  unitNumber?: number;
  /** Controllers. */
  busNumber?: number;
  /** Disks. */
  capacityInKB?: number;
  /** Disks: the datastore path of the VMDK and how it is used. */
  fileName?: string;
  diskMode?: string;
  /** NICs. */
  network?: string;
  macAddress?: string;
}

export type PowerState = 'poweredOn' | 'poweredOff' | 'suspended';

export interface FakeVm {
  kind: 'VirtualMachine';
  ref: MoRef;
  name: string;
  parent: MoRef;
  template: boolean;
  powerState: PowerState;
  numCPUs: number;
  memoryMB: number;
  annotation: string;
  extraConfig: Map<string, string>;
  devices: FakeDevice[];
  customValues: Map<number, string>;
  snapshot?: { ref: MoRef; name: string; description: string; disks: string[] };
  pool?: MoRef;
  datastore: MoRef;
  /** `[ds] name/name.vmx` */
  vmxPath: string;
  instanceUuid: string;
}

export interface FakeFolder {
  kind: 'Folder';
  ref: MoRef;
  name: string;
  parent?: MoRef;
  childType: string[];
  children: MoRef[];
}

export interface FakeDatacenter {
  kind: 'Datacenter';
  ref: MoRef;
  name: string;
  parent: MoRef;
  vmFolder: MoRef;
  hostFolder: MoRef;
  datastoreFolder: MoRef;
  networkFolder: MoRef;
}

export interface FakeCluster {
  kind: 'ClusterComputeResource';
  ref: MoRef;
  name: string;
  parent: MoRef;
  resourcePool: MoRef;
  hosts: MoRef[];
}

export interface FakeHost {
  kind: 'HostSystem';
  ref: MoRef;
  name: string;
  parent: MoRef;
}

export interface FakePool {
  kind: 'ResourcePool';
  ref: MoRef;
  name: string;
  parent: MoRef;
  pools: MoRef[];
}

export interface FakeDatastore {
  kind: 'Datastore';
  ref: MoRef;
  name: string;
  parent: MoRef;
  browser: MoRef;
  capacity: number;
}

export interface FakeBrowser {
  kind: 'HostDatastoreBrowser';
  ref: MoRef;
  datastore: MoRef;
}

export interface FakeManager {
  kind: 'Manager';
  ref: MoRef;
}

export interface FakeSnapshotObject {
  kind: 'VirtualMachineSnapshot';
  ref: MoRef;
  vm: MoRef;
}

export const TASK_STATES = ['queued', 'running', 'success', 'error'] as const;
export type FakeTaskState = (typeof TASK_STATES)[number];

export interface FakeTask {
  kind: 'Task';
  ref: MoRef;
  method: string;
  descriptionId: string;
  entity?: MoRef;
  entityName?: string;
  state: FakeTaskState;
  error?: VimFaultError;
  /** The result as a typed value fragment writer, once success. */
  result?: { type: string; inner: string; refType?: string };
  queueTime: number;
  startTime?: number;
  completeTime?: number;
  userName: string;
  eventChainId: number;
}

export type FakeObject =
  | FakeVm
  | FakeFolder
  | FakeDatacenter
  | FakeCluster
  | FakeHost
  | FakePool
  | FakeDatastore
  | FakeBrowser
  | FakeManager
  | FakeSnapshotObject
  | FakeTask;

/** A VMDK descriptor file on a datastore. */
export interface FakeDiskFile {
  path: string;
  capacityKb: number;
  /** As vSphere writes VMDK UUIDs: 6000C29x-xxxx-xxxx-xxxx-xxxxxxxxxxxx. */
  uuid: string;
  /** A delta disk's parent file (linked clones). */
  parent?: string;
  modified: number;
  /** Made by VirtualDiskManager (a persistent disk), not as part of a VM. */
  standalone?: boolean;
}

export interface FakeSession {
  key: string;
  userName: string;
  lastActive: number;
}

export interface FakeFieldDef {
  key: number;
  name: string;
  managedObjectType?: string;
}

/** Everything the fake vCenter holds. One instance per startFake(); nothing at module level. */
export class FakeInventory {
  /** Every managed object but tasks, by reference value. */
  readonly objects = new Map<string, FakeObject>();
  /** Tasks apart, since there are many and lookups by kind need not wade through them. */
  readonly tasks = new Map<string, FakeTask>();
  /** VMDK files by datastore path (`[datastore1] slipway-disks/disk-1.vmdk`). */
  readonly files = new Map<string, FakeDiskFile>();
  /** Directories by datastore path (`[datastore1] slipway-disks`). */
  readonly directories = new Set<string>();
  readonly sessions = new Map<string, FakeSession>();
  readonly fieldDefs: FakeFieldDef[] = [];
  readonly quota: { vms?: number; disks?: number } = {};
  /** Names of VMs being cloned, by folder, so a second clone of a name fails as vCenter's would. */
  readonly reservedNames = new Map<string, Set<string>>();
  private counter = 100;
  private fieldCounter = 100;
  private eventChain = 1000;

  constructor(readonly user: { name: string; password: string }) {}

  nextId(prefix: string): string {
    this.counter += 1;
    return `${prefix}-${this.counter}`;
  }

  nextFieldKey(): number {
    this.fieldCounter += 1;
    return this.fieldCounter;
  }

  nextEventChainId(): number {
    this.eventChain += 1;
    return this.eventChain;
  }

  add<T extends FakeObject>(object: T): T {
    if (object.kind === 'Task') this.tasks.set(object.ref.value, object);
    else this.objects.set(object.ref.value, object);
    return object;
  }

  /** The object behind a reference, or the fault vCenter answers for a stale one. */
  get(reference: MoRef | undefined): FakeObject {
    const found = reference ? (this.objects.get(reference.value) ?? this.tasks.get(reference.value)) : undefined;
    if (!found || found.ref.type !== reference!.type) throw notFound(reference ?? { type: 'ManagedObject', value: '' });
    return found;
  }

  getAs<K extends FakeObject['kind']>(reference: MoRef | undefined, kind: K): Extract<FakeObject, { kind: K }> {
    const found = this.get(reference);
    if (found.kind !== kind) throw notFound(reference!);
    return found as Extract<FakeObject, { kind: K }>;
  }

  datastoreNamed(name: string): FakeDatastore | undefined {
    for (const o of this.objects.values()) if (o.kind === 'Datastore' && o.name === name) return o;
    return undefined;
  }

  vms(): FakeVm[] {
    return [...this.objects.values()].filter((o): o is FakeVm => o.kind === 'VirtualMachine');
  }

  /** The child of a container (folder, datacenter, cluster, pool) with that name, as SearchIndex sees it. */
  childNamed(container: FakeObject, name: string): FakeObject | undefined {
    const named = (refs: MoRef[]) =>
      refs.map((r) => this.objects.get(r.value)).find((o) => o && 'name' in o && o.name === name);
    switch (container.kind) {
      case 'Folder':
        return named(container.children);
      case 'Datacenter':
        return named([container.vmFolder, container.hostFolder, container.datastoreFolder, container.networkFolder]);
      case 'ClusterComputeResource':
        return named([container.resourcePool, ...container.hosts]);
      case 'ResourcePool':
        return named(container.pools);
      default:
        return undefined;
    }
  }

  /** VMs and templates whose disks use this file. */
  holdersOf(path: string): FakeVm[] {
    return this.vms().filter((vm) => vm.devices.some((d) => d.fileName === path));
  }

  /** A VMDK UUID in vSphere's form. */
  static diskUuid(): string {
    const hex = `6000C29${randomBytes(13).toString('hex').slice(0, 25)}`;
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
  }

  static instanceUuid(): string {
    return randomUUID();
  }

  static macAddress(): string {
    const bytes = randomBytes(3);
    return `00:50:56:${[...bytes].map((b) => b.toString(16).padStart(2, '0')).join(':')}`;
  }
}

/** vCenter's fault for a reference to an object that is gone (or never was). */
export function notFound(reference: MoRef): VimFaultError {
  return new VimFaultError(
    'ManagedObjectNotFound',
    `The object 'vim.${reference.type}:${reference.value}' has already been deleted or has not been completely created`,
    ref('obj', reference),
  );
}

/** `[ds] folder/file` -> { datastore, path }. */
export function parseDatastorePath(path: string): { datastore: string; relative: string } | undefined {
  const match = /^\[([^\]]+)\]\s?(.*)$/.exec(path);
  return match ? { datastore: match[1]!, relative: match[2]! } : undefined;
}
