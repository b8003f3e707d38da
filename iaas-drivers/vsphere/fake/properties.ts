import { VimFaultError } from './faults.js';
import type { FakeDevice, FakeInventory, FakeObject, FakeTask, FakeVm } from './state.js';
import { arrayOf, dateTime, el, moValue, obj, ref, text, typed, type TypedValue } from './xml-out.js';

/**
 * The properties the fake serves through the PropertyCollector, by object kind and property path. A path
 * that is not here is refused with InvalidProperty, as vCenter refuses an unknown one. An unset optional
 * property (a VM without snapshots has no `snapshot`) yields `undefined` and is left out of the answer.
 */
type Getter<T> = (object: T, inventory: FakeInventory) => TypedValue | undefined;

const VM: Record<string, Getter<FakeVm>> = {
  name: (vm) => text('xsd:string', vm.name),
  parent: (vm) => moValue(vm.parent),
  resourcePool: (vm) => (vm.pool ? moValue(vm.pool) : undefined),
  'runtime.powerState': (vm) => text('VirtualMachinePowerState', vm.powerState),
  'summary.runtime.powerState': (vm) => text('VirtualMachinePowerState', vm.powerState),
  'config.name': (vm) => text('xsd:string', vm.name),
  'config.template': (vm) => text('xsd:boolean', vm.template),
  'config.annotation': (vm) => text('xsd:string', vm.annotation),
  'config.instanceUuid': (vm) => text('xsd:string', vm.instanceUuid),
  'config.hardware.numCPU': (vm) => text('xsd:int', vm.numCPUs),
  'config.hardware.memoryMB': (vm) => text('xsd:int', vm.memoryMB),
  'config.hardware.device': (vm, inventory) =>
    arrayOf(
      'VirtualDevice',
      vm.devices.map((d) => device(vm, d, inventory)),
    ),
  'config.extraConfig': (vm) =>
    arrayOf(
      'OptionValue',
      [...vm.extraConfig].map(([key, value]) =>
        obj('OptionValue', 'OptionValue', el('key', key), typed('value', text('xsd:string', value))),
      ),
    ),
  customValue: (vm) =>
    arrayOf(
      'CustomFieldValue',
      [...vm.customValues].map(([key, value]) =>
        obj('CustomFieldValue', 'CustomFieldStringValue', el('key', key), el('value', value)),
      ),
    ),
  snapshot: (vm) =>
    vm.snapshot
      ? {
          type: 'VirtualMachineSnapshotInfo',
          inner:
            ref('currentSnapshot', vm.snapshot.ref) +
            obj(
              'rootSnapshotList',
              'VirtualMachineSnapshotTree',
              ref('snapshot', vm.snapshot.ref),
              ref('vm', vm.ref),
              el('name', vm.snapshot.name),
              el('description', vm.snapshot.description),
              el('id', 1),
              el('createTime', dateTime(Date.now())),
              el('state', 'poweredOff'),
              el('quiesced', false),
            ),
        }
      : undefined,
};

const TASK: Record<string, Getter<FakeTask>> = {
  info: (task) => ({ type: 'TaskInfo', inner: taskInfo(task) }),
  'info.state': (task) => text('TaskInfoState', task.state),
  'info.error': (task) => (task.error ? { type: 'LocalizedMethodFault', inner: localizedFault(task) } : undefined),
  'info.result': (task) => task.result,
};

/** A property of any object, or undefined when it is unset; throws InvalidProperty for an unknown path. */
export function propertyOf(object: FakeObject, path: string, inventory: FakeInventory): TypedValue | undefined {
  const getter = getterFor(object, path);
  if (!getter)
    throw new VimFaultError('InvalidProperty', `The specified property is not valid: ${path}`, el('name', path));
  return getter(object, inventory);
}

function getterFor(
  object: FakeObject,
  path: string,
): ((o: FakeObject, inventory: FakeInventory) => TypedValue | undefined) | undefined {
  const entityName = (o: FakeObject) => ('name' in o ? text('xsd:string', o.name) : undefined);
  switch (object.kind) {
    case 'VirtualMachine':
      return VM[path] as Getter<FakeObject> | undefined;
    case 'Task':
      return TASK[path] as Getter<FakeObject> | undefined;
    case 'Datastore':
      if (path === 'browser') return () => moValue(object.browser);
      if (path === 'summary.capacity') return () => text('xsd:long', object.capacity);
      return path === 'name' ? entityName : undefined;
    case 'Folder':
      if (path === 'childEntity')
        return () =>
          arrayOf(
            'ManagedObjectReference',
            object.children.map((c) => ref('ManagedObjectReference', c, true)),
          );
      return path === 'name' ? entityName : undefined;
    case 'Manager':
      if (object.ref.type === 'CustomFieldsManager' && path === 'field') {
        return (_, inventory) =>
          arrayOf(
            'CustomFieldDef',
            inventory.fieldDefs.map((d) =>
              obj(
                'CustomFieldDef',
                undefined,
                el('key', d.key),
                el('name', d.name),
                el('type', 'string'),
                el('managedObjectType', d.managedObjectType),
              ),
            ),
          );
      }
      return undefined;
    case 'Datacenter':
    case 'ClusterComputeResource':
    case 'HostSystem':
    case 'ResourcePool':
      return path === 'name' ? entityName : undefined;
    case 'HostDatastoreBrowser':
    case 'VirtualMachineSnapshot':
      return undefined;
  }
}

/** A VirtualDevice as vCenter writes it in `config.hardware.device`, for the device types the fake has. */
function device(vm: FakeVm, d: FakeDevice, inventory: FakeInventory): string {
  const info = obj(
    'deviceInfo',
    'Description',
    el('label', d.label),
    el('summary', d.type === 'VirtualDisk' ? `${d.capacityInKB} KB` : d.label),
  );
  const slot = el('controllerKey', d.controllerKey) + el('unitNumber', d.unitNumber);
  switch (d.type) {
    case 'VirtualDisk': {
      const file = d.fileName ? inventory.files.get(d.fileName) : undefined;
      return obj(
        'VirtualDevice',
        'VirtualDisk',
        el('key', d.key),
        info,
        diskBacking('backing', d.fileName ?? '', d.diskMode ?? 'persistent', inventory),
        slot,
        el('capacityInKB', file?.capacityKb ?? d.capacityInKB ?? 0),
        el('capacityInBytes', (file?.capacityKb ?? d.capacityInKB ?? 0) * 1024),
      );
    }
    case 'ParaVirtualSCSIController': {
      const onIt = vm.devices.filter((other) => other.controllerKey === d.key).map((other) => other.key);
      return obj(
        'VirtualDevice',
        'ParaVirtualSCSIController',
        el('key', d.key),
        info,
        slot,
        el('busNumber', d.busNumber),
        onIt.map((key) => el('device', key)).join(''),
        el('hotAddRemove', true),
        el('sharedBus', 'noSharing'),
        el('scsiCtlrUnitNumber', 7),
      );
    }
    case 'VirtualVmxnet3':
      return obj(
        'VirtualDevice',
        'VirtualVmxnet3',
        el('key', d.key),
        info,
        obj(
          'backing',
          'VirtualEthernetCardNetworkBackingInfo',
          el('deviceName', d.network),
          el('useAutoDetect', false),
        ),
        obj(
          'connectable',
          'VirtualDeviceConnectInfo',
          el('startConnected', true),
          el('allowGuestControl', true),
          el('connected', false),
          el('status', 'untried'),
        ),
        slot,
        el('addressType', 'assigned'),
        el('macAddress', d.macAddress),
        el('wakeOnLanEnabled', true),
      );
  }
}

/** A disk's backing; a delta disk (linked clone) nests its parent's backing as `parent`, as vCenter does. */
function diskBacking(name: string, fileName: string, diskMode: string, inventory: FakeInventory): string {
  const file = inventory.files.get(fileName);
  const uuid = file?.uuid;
  const parent = file?.parent;
  const parentBacking = parent ? diskBacking('parent', parent, 'persistent', inventory) : '';
  const datastore = /^\[([^\]]+)\]/.exec(fileName)?.[1];
  const datastoreRef = datastore ? inventory.datastoreNamed(datastore) : undefined;
  return obj(
    name,
    'VirtualDiskFlatVer2BackingInfo',
    el('fileName', fileName),
    datastoreRef ? ref('datastore', datastoreRef.ref) : '',
    el('diskMode', diskMode),
    el('split', false),
    el('writeThrough', false),
    el('thinProvisioned', true),
    el('uuid', uuid),
    el('contentId', uuid?.replace(/-/g, '').slice(0, 32)),
    parentBacking,
    parent ? el('deltaDiskFormat', 'redoLogFormat') : '',
    el('digestEnabled', false),
    el('sharing', 'sharingNone'),
  );
}

function taskInfo(task: FakeTask): string {
  return [
    el('key', task.ref.value),
    ref('task', task.ref),
    el('name', task.method),
    el('descriptionId', task.descriptionId),
    ref('entity', task.entity),
    el('entityName', task.entityName),
    el('state', task.state),
    el('cancelled', false),
    el('cancelable', false),
    task.error ? `<error>${localizedFault(task)}</error>` : '',
    task.result ? typed('result', task.result) : '',
    task.state === 'running' ? el('progress', 50) : '',
    obj('reason', 'TaskReasonUser', el('userName', task.userName)),
    el('queueTime', dateTime(task.queueTime)),
    el('startTime', task.startTime ? dateTime(task.startTime) : undefined),
    el('completeTime', task.completeTime ? dateTime(task.completeTime) : undefined),
    el('eventChainId', task.eventChainId),
  ].join('');
}

function localizedFault(task: FakeTask): string {
  const fault = task.error!;
  return `<fault xsi:type="${fault.type}">${fault.detail}</fault>${el('localizedMessage', fault.message)}`;
}
