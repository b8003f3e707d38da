import type { MoRef } from '../src/soap.js';
import { FakeInventory, type FakeDevice, type FakeFolder, type FakeVm } from './state.js';

/** Well-known objects of every vCenter, by the reference values vCenter gives them. */
export const SERVICE_CONTENT_REFS = {
  rootFolder: { type: 'Folder', value: 'group-d1' },
  propertyCollector: { type: 'PropertyCollector', value: 'propertyCollector' },
  viewManager: { type: 'ViewManager', value: 'ViewManager' },
  sessionManager: { type: 'SessionManager', value: 'SessionManager' },
  taskManager: { type: 'TaskManager', value: 'TaskManager' },
  customFieldsManager: { type: 'CustomFieldsManager', value: 'CustomFieldsManager' },
  searchIndex: { type: 'SearchIndex', value: 'SearchIndex' },
  fileManager: { type: 'FileManager', value: 'FileManager' },
  virtualDiskManager: { type: 'VirtualDiskManager', value: 'virtualDiskManager' },
} as const satisfies Record<string, MoRef>;

/** Names of the fake's inventory; its config points at them. */
export const FAKE_INVENTORY = {
  datacenter: 'dc1',
  cluster: 'cluster1',
  resourcePool: 'slipway',
  datastore: 'datastore1',
  vmFolder: 'slipway/vms',
  templateFolder: 'slipway/templates',
  /** The operator's golden image: a template without a snapshot. */
  baseTemplate: 'golden/ubuntu-jammy-base',
  network: 'VM Network',
} as const;

/** One datacenter with a cluster (root pool and a `slipway` child pool), a host, a datastore, VM folders and a template. */
export function seedInventory(inventory: FakeInventory): void {
  const root = inventory.add<FakeFolder>({
    kind: 'Folder',
    ref: SERVICE_CONTENT_REFS.rootFolder,
    name: 'Datacenters',
    childType: ['Folder', 'Datacenter'],
    children: [],
  });
  for (const [name, reference] of Object.entries(SERVICE_CONTENT_REFS)) {
    if (name !== 'rootFolder') inventory.add({ kind: 'Manager', ref: reference });
  }
  inventory.add({ kind: 'Manager', ref: { type: 'ServiceInstance', value: 'ServiceInstance' } });
  const dcRef = { type: 'Datacenter', value: 'datacenter-2' };
  const folder = (value: string, name: string, parent: MoRef, childType: string[]): FakeFolder =>
    inventory.add<FakeFolder>({
      kind: 'Folder',
      ref: { type: 'Folder', value },
      name,
      parent,
      childType,
      children: [],
    });
  const vmFolder = folder('group-v3', 'vm', dcRef, ['Folder', 'VirtualMachine', 'VirtualApp']);
  const hostFolder = folder('group-h4', 'host', dcRef, ['Folder', 'ComputeResource']);
  const datastoreFolder = folder('group-s5', 'datastore', dcRef, ['Folder', 'Datastore', 'StoragePod']);
  const networkFolder = folder('group-n6', 'network', dcRef, ['Folder', 'Network']);
  inventory.add({
    kind: 'Datacenter',
    ref: dcRef,
    name: FAKE_INVENTORY.datacenter,
    parent: root.ref,
    vmFolder: vmFolder.ref,
    hostFolder: hostFolder.ref,
    datastoreFolder: datastoreFolder.ref,
    networkFolder: networkFolder.ref,
  });
  root.children.push(dcRef);

  const slipway = folder('group-v7', 'slipway', vmFolder.ref, vmFolder.childType);
  const vms = folder('group-v8', 'vms', slipway.ref, vmFolder.childType);
  const templates = folder('group-v9', 'templates', slipway.ref, vmFolder.childType);
  const golden = folder('group-v10', 'golden', vmFolder.ref, vmFolder.childType);
  vmFolder.children.push(slipway.ref, golden.ref);
  slipway.children.push(vms.ref, templates.ref);

  const clusterRef = { type: 'ClusterComputeResource', value: 'domain-c11' };
  const rootPool = { type: 'ResourcePool', value: 'resgroup-12' };
  const childPool = { type: 'ResourcePool', value: 'resgroup-13' };
  const hostRef = { type: 'HostSystem', value: 'host-14' };
  inventory.add({
    kind: 'ClusterComputeResource',
    ref: clusterRef,
    name: FAKE_INVENTORY.cluster,
    parent: hostFolder.ref,
    resourcePool: rootPool,
    hosts: [hostRef],
  });
  inventory.add({ kind: 'ResourcePool', ref: rootPool, name: 'Resources', parent: clusterRef, pools: [childPool] });
  inventory.add({
    kind: 'ResourcePool',
    ref: childPool,
    name: FAKE_INVENTORY.resourcePool,
    parent: rootPool,
    pools: [],
  });
  inventory.add({ kind: 'HostSystem', ref: hostRef, name: 'esxi-01.slipway.test', parent: clusterRef });
  hostFolder.children.push(clusterRef);

  const datastoreRef = { type: 'Datastore', value: 'datastore-15' };
  const browserRef = { type: 'HostDatastoreBrowser', value: 'datastoreBrowser-datastore-15' };
  inventory.add({
    kind: 'Datastore',
    ref: datastoreRef,
    name: FAKE_INVENTORY.datastore,
    parent: datastoreFolder.ref,
    browser: browserRef,
    capacity: 2 * 1024 ** 4,
  });
  inventory.add({ kind: 'HostDatastoreBrowser', ref: browserRef, datastore: datastoreRef });
  datastoreFolder.children.push(datastoreRef);

  const templateName = FAKE_INVENTORY.baseTemplate.split('/').pop()!;
  const diskPath = `[${FAKE_INVENTORY.datastore}] ${templateName}/${templateName}.vmdk`;
  inventory.directories.add(`[${FAKE_INVENTORY.datastore}] ${templateName}`);
  inventory.files.set(diskPath, {
    path: diskPath,
    capacityKb: 10 * 1024 * 1024,
    uuid: FakeInventory.diskUuid(),
    modified: Date.now(),
  });
  const template: FakeVm = {
    kind: 'VirtualMachine',
    ref: { type: 'VirtualMachine', value: 'vm-16' },
    name: templateName,
    parent: golden.ref,
    template: true,
    powerState: 'poweredOff',
    numCPUs: 2,
    memoryMB: 2048,
    annotation: 'Ubuntu 22.04 golden image',
    extraConfig: new Map(),
    devices: standardDevices(diskPath, 10 * 1024 * 1024),
    customValues: new Map(),
    datastore: datastoreRef,
    vmxPath: `[${FAKE_INVENTORY.datastore}] ${templateName}/${templateName}.vmx`,
    instanceUuid: FakeInventory.instanceUuid(),
  };
  inventory.add(template);
  golden.children.push(template.ref);
}

/** A PVSCSI controller with the root disk on unit 0, and a vmxnet3 NIC: what a stemcell template has. */
export function standardDevices(rootDisk: string, capacityInKB: number): FakeDevice[] {
  return [
    {
      key: 1000,
      type: 'ParaVirtualSCSIController',
      label: 'SCSI controller 0',
      busNumber: 0,
      controllerKey: 100,
      unitNumber: 3,
    },
    {
      key: 2000,
      type: 'VirtualDisk',
      label: 'Hard disk 1',
      controllerKey: 1000,
      unitNumber: 0,
      capacityInKB,
      fileName: rootDisk,
      diskMode: 'persistent',
    },
    {
      key: 4000,
      type: 'VirtualVmxnet3',
      label: 'Network adapter 1',
      controllerKey: 100,
      unitNumber: 7,
      network: FAKE_INVENTORY.network,
      macAddress: FakeInventory.macAddress(),
    },
  ];
}
