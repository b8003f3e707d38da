import type { MoRef } from '../../src/soap.js';
import { child, childText, children, xsiType, type XmlElement } from '../../src/xml.js';
import {
  arg,
  argText,
  childBool,
  childNumber,
  childRef,
  optionalArg,
  refOf,
  type FakeContext,
  type MethodHandler,
} from '../context.js';
import { checkSequence } from '../envelope.js';
import { VimFaultError } from '../faults.js';
import {
  FakeInventory,
  notFound,
  parseDatastorePath,
  type FakeDevice,
  type FakeFolder,
  type FakeVm,
  type PowerState,
} from '../state.js';
import { el, moValue, ref } from '../xml-out.js';

/** VirtualMachine methods: clone, reconfigure, power, reset, destroy, snapshot, mark as template. */
export const vmMethods: Record<string, MethodHandler> = {
  CloneVM_Task: {
    handle: (ctx, call) => ({
      body: ref(
        'returnval',
        cloneVm(ctx, call.request.self, arg(call, 'folder'), argText(call, 'name'), arg(call, 'spec')),
      ),
    }),
  },
  ReconfigVM_Task: {
    handle: (ctx, call) => {
      const vm = ctx.inventory.getAs(call.request.self, 'VirtualMachine');
      const spec = arg(call, 'spec');
      checkSequence(spec);
      return {
        body: ref(
          'returnval',
          ctx.tasks.start('ReconfigVM_Task', 'VirtualMachine.reconfigure', vm, ctx.timings.taskMs, () => {
            reconfigure(ctx, vm, spec);
          }),
        ),
      };
    },
  },
  PowerOnVM_Task: {
    handle: (ctx, call) => ({
      body: ref('returnval', power(ctx, call.request.self, 'PowerOnVM_Task', 'VirtualMachine.powerOn')),
    }),
  },
  PowerOffVM_Task: {
    handle: (ctx, call) => ({
      body: ref('returnval', power(ctx, call.request.self, 'PowerOffVM_Task', 'VirtualMachine.powerOff')),
    }),
  },
  ResetVM_Task: {
    handle: (ctx, call) => ({
      body: ref('returnval', power(ctx, call.request.self, 'ResetVM_Task', 'VirtualMachine.reset')),
    }),
  },
  Destroy_Task: {
    handle: (ctx, call) => {
      const vm = ctx.inventory.getAs(call.request.self, 'VirtualMachine');
      return {
        body: ref(
          'returnval',
          ctx.tasks.start('Destroy_Task', 'VirtualMachine.destroy', vm, ctx.timings.taskMs, () => {
            alive(ctx, vm);
            if (vm.powerState !== 'poweredOff') throw invalidPowerState('poweredOff', vm.powerState);
            return {
              commit: () => {
                destroyVm(ctx, vm);
                return undefined;
              },
            };
          }),
        ),
      };
    },
  },
  CreateSnapshot_Task: {
    handle: (ctx, call) => {
      const vm = ctx.inventory.getAs(call.request.self, 'VirtualMachine');
      const name = argText(call, 'name');
      const description = optionalArg(call, 'description')?.text ?? '';
      arg(call, 'memory');
      arg(call, 'quiesce');
      return {
        body: ref(
          'returnval',
          ctx.tasks.start('CreateSnapshot_Task', 'VirtualMachine.createSnapshot', vm, ctx.timings.taskMs, () => {
            alive(ctx, vm);
            if (vm.template) throw notSupported();
            if (vm.snapshot)
              throw new VimFaultError(
                'NotSupported',
                'The fake vCenter keeps one snapshot per VM; this one has one already.',
              );
            return { commit: () => moValue(snapshot(ctx, vm, name, description)) };
          }),
        ),
      };
    },
  },
  MarkAsTemplate: {
    handle: (ctx, call) => {
      const vm = ctx.inventory.getAs(call.request.self, 'VirtualMachine');
      if (vm.template) throw notSupported();
      if (vm.powerState !== 'poweredOff') throw invalidPowerState('poweredOff', vm.powerState);
      vm.template = true;
      delete vm.pool;
      return { body: '' };
    },
  },
};

function cloneVm(ctx: FakeContext, self: MoRef, folderArg: XmlElement, name: string, spec: XmlElement): MoRef {
  const { inventory } = ctx;
  const source = inventory.getAs(self, 'VirtualMachine');
  const folder = inventory.getAs(refOf(folderArg), 'Folder');
  checkSequence(spec);
  const location = child(spec, 'location');
  if (!location)
    throw new VimFaultError(
      'InvalidRequest',
      'Required property location is missing from data object of type VirtualMachineCloneSpec',
    );
  const datastore = inventory.getAs(childRef(location, 'datastore') ?? source.datastore, 'Datastore');
  const poolRef = childRef(location, 'pool');
  if (poolRef) inventory.getAs(poolRef, 'ResourcePool');
  const template = childBool(spec, 'template') ?? false;
  const powerOn = childBool(spec, 'powerOn') ?? false;
  const diskMoveType = childText(location, 'diskMoveType');
  const snapshotRef = childRef(spec, 'snapshot');
  if (name.length < 1 || name.length > 80) throw invalidArgument('name');
  if (!folder.childType.includes('VirtualMachine'))
    throw new VimFaultError('NotSupported', 'The operation is not supported on the object.');
  // A template has no pool of its own: a VM cloned from one needs a pool to run in.
  if (source.template && !template && !poolRef) throw invalidArgument('spec.location.pool');
  return ctx.tasks.start('CloneVM_Task', 'VirtualMachine.clone', source, ctx.timings.cloneMs, () => {
    alive(ctx, source);
    const reserved = inventory.reservedNames.get(folder.ref.value) ?? new Set<string>();
    if (inventory.childNamed(folder, name) || reserved.has(name)) {
      throw new VimFaultError(
        'DuplicateName',
        `The name '${name}' already exists.`,
        el('name', name) + ref('object', folder.ref),
      );
    }
    const live = inventory.vms().filter((v) => !v.template).length;
    if (!template && inventory.quota.vms !== undefined && live >= inventory.quota.vms) {
      throw new VimFaultError(
        'InsufficientMemoryResourcesFault',
        'The available Memory resources in the parent resource pool are insufficient for the operation.',
        el('unreserved', 0) + el('requested', source.memoryMB * 1024 * 1024),
      );
    }
    const linked = diskMoveType === 'createNewChildDiskBacking';
    if (linked && (!snapshotRef || !source.snapshot || snapshotRef.value !== source.snapshot.ref.value))
      throw invalidArgument('spec.snapshot');
    if (
      diskMoveType !== undefined &&
      ![
        'createNewChildDiskBacking',
        'moveAllDiskBackingsAndDisallowSharing',
        'moveAllDiskBackingsAndAllowSharing',
        'moveChildMostDiskBacking',
        'moveAllDiskBackingsAndConsolidate',
      ].includes(diskMoveType)
    ) {
      throw invalidArgument('spec.location.diskMoveType');
    }
    reserved.add(name);
    inventory.reservedNames.set(folder.ref.value, reserved);
    return {
      commit: () => {
        const vm = materializeClone(ctx, source, folder, name, datastore.name, datastore.ref, {
          template,
          poolRef,
          linked,
        });
        ctx.clones.push({
          name,
          source: source.name,
          template,
          ...(diskMoveType ? { diskMoveType } : {}),
          ...(snapshotRef ? { snapshot: snapshotRef.value } : {}),
        });
        if (powerOn && !template) setPower(ctx, vm, 'poweredOn');
        return moValue(vm.ref);
      },
      release: () => reserved.delete(name),
    };
  });
}

/** The new VM: its own files, or delta disks on the source snapshot's disks for a linked clone. */
function materializeClone(
  ctx: FakeContext,
  source: FakeVm,
  folder: FakeFolder,
  name: string,
  datastoreName: string,
  datastore: MoRef,
  options: { template: boolean; poolRef?: MoRef; linked: boolean },
): FakeVm {
  const { inventory } = ctx;
  const directory = `[${datastoreName}] ${name}`;
  inventory.directories.add(directory);
  let diskIndex = 0;
  const baseDisks = options.linked ? source.snapshot!.disks : [];
  const devices: FakeDevice[] = source.devices
    .filter((d) => d.type !== 'VirtualDisk' || !d.diskMode?.startsWith('independent'))
    .map((d) => {
      if (d.type === 'VirtualVmxnet3') return { ...d, macAddress: FakeInventory.macAddress() };
      if (d.type !== 'VirtualDisk') return { ...d };
      const path = `${directory}/${name}${diskIndex === 0 ? '' : `_${diskIndex}`}.vmdk`;
      const from = inventory.files.get(d.fileName ?? '');
      const parent = options.linked ? baseDisks[diskIndex] : undefined;
      diskIndex += 1;
      inventory.files.set(path, {
        path,
        capacityKb: from?.capacityKb ?? d.capacityInKB ?? 0,
        uuid: FakeInventory.diskUuid(),
        ...(parent ? { parent } : {}),
        modified: Date.now(),
      });
      return { ...d, fileName: path };
    });
  const vm: FakeVm = {
    kind: 'VirtualMachine',
    ref: { type: 'VirtualMachine', value: inventory.nextId('vm') },
    name,
    parent: folder.ref,
    template: options.template,
    powerState: 'poweredOff',
    numCPUs: source.numCPUs,
    memoryMB: source.memoryMB,
    annotation: source.annotation,
    extraConfig: new Map(source.extraConfig),
    devices,
    customValues: new Map(),
    datastore,
    vmxPath: `${directory}/${name}.vmx`,
    instanceUuid: FakeInventory.instanceUuid(),
    ...(options.template ? {} : { pool: options.poolRef ?? source.pool }),
  };
  inventory.add(vm);
  folder.children.push(vm.ref);
  return vm;
}

/** Applies a VirtualMachineConfigSpec atomically: everything is checked before anything changes. */
function reconfigure(ctx: FakeContext, vm: FakeVm, spec: XmlElement): void {
  alive(ctx, vm);
  if (vm.template) throw notSupported();
  const numCPUs = childNumber(spec, 'numCPUs');
  const memoryMB = childNumber(spec, 'memoryMB');
  if (
    vm.powerState === 'poweredOn' &&
    ((numCPUs !== undefined && numCPUs !== vm.numCPUs) || (memoryMB !== undefined && memoryMB !== vm.memoryMB))
  ) {
    throw invalidPowerState('poweredOff', vm.powerState);
  }
  if (numCPUs !== undefined && (!Number.isInteger(numCPUs) || numCPUs < 1 || numCPUs > 768))
    throw invalidArgument('spec.numCPUs');
  if (memoryMB !== undefined && (!Number.isInteger(memoryMB) || memoryMB < 4 || memoryMB % 4 !== 0))
    throw invalidArgument('spec.memoryMB');
  const devices = vm.devices.map((d) => ({ ...d }));
  const destroyFiles: string[] = [];
  children(spec, 'deviceChange').forEach((change, index) =>
    applyDeviceChange(ctx, vm, devices, change, index, destroyFiles),
  );
  const extra = new Map(vm.extraConfig);
  for (const option of children(spec, 'extraConfig')) {
    const key = childText(option, 'key');
    if (!key) throw invalidArgument('spec.extraConfig.key');
    const value = childText(option, 'value') ?? '';
    // vSphere removes a key set to the empty string.
    if (value === '') extra.delete(key);
    else extra.set(key, value);
  }
  vm.devices = devices;
  for (const path of destroyFiles) deleteDiskFile(ctx, path);
  vm.extraConfig = extra;
  if (numCPUs !== undefined) vm.numCPUs = numCPUs;
  if (memoryMB !== undefined) vm.memoryMB = memoryMB;
  const annotation = childText(spec, 'annotation');
  if (annotation !== undefined) vm.annotation = annotation;
}

function applyDeviceChange(
  ctx: FakeContext,
  vm: FakeVm,
  devices: FakeDevice[],
  change: XmlElement,
  index: number,
  destroyFiles: string[],
): void {
  const operation = childText(change, 'operation');
  const fileOperation = childText(change, 'fileOperation');
  const device = child(change, 'device');
  const type = xsiType(device);
  const invalid = () =>
    new VimFaultError(
      'InvalidDeviceSpec',
      `Invalid configuration for device '${index}'.`,
      el('property', 'device') + el('deviceIndex', index),
    );
  if (!device || type !== 'VirtualDisk')
    throw new VimFaultError(
      'NotSupported',
      `The fake vCenter reconfigures disks only, not ${type ?? 'an untyped device'}`,
    );
  const key = childNumber(device, 'key');
  switch (operation) {
    case 'add': {
      if (fileOperation !== undefined)
        throw new VimFaultError(
          'NotSupported',
          'The fake vCenter attaches existing disk files only (no fileOperation)',
        );
      const backing = child(device, 'backing');
      const fileName = childText(backing, 'fileName');
      const diskMode = childText(backing, 'diskMode');
      if (!fileName || !diskMode) throw invalid();
      if (
        ![
          'persistent',
          'nonpersistent',
          'undoable',
          'independent_persistent',
          'independent_nonpersistent',
          'append',
        ].includes(diskMode)
      )
        throw invalid();
      const file = ctx.inventory.files.get(fileName);
      if (!file) throw fileNotFound(fileName);
      if (devices.some((d) => d.fileName === fileName)) throw invalid();
      if (ctx.inventory.holdersOf(fileName).some((holder) => holder !== vm)) {
        throw new VimFaultError(
          'FileLocked',
          `Unable to access file ${fileName} since it is locked`,
          el('file', fileName),
        );
      }
      const controllerKey = childNumber(device, 'controllerKey');
      const unitNumber = childNumber(device, 'unitNumber');
      const controller = devices.find((d) => d.key === controllerKey && d.type === 'ParaVirtualSCSIController');
      if (!controller || unitNumber === undefined || unitNumber === 7 || unitNumber < 0 || unitNumber > 15)
        throw invalid();
      if (devices.some((d) => d.controllerKey === controllerKey && d.unitNumber === unitNumber)) throw invalid();
      const newKey = Math.max(2000, ...devices.filter((d) => d.type === 'VirtualDisk').map((d) => d.key)) + 1;
      const disks = devices.filter((d) => d.type === 'VirtualDisk').length;
      devices.push({
        key: newKey,
        type: 'VirtualDisk',
        label: `Hard disk ${disks + 1}`,
        controllerKey,
        unitNumber,
        capacityInKB: file.capacityKb,
        fileName,
        diskMode,
      });
      return;
    }
    case 'remove': {
      const at = devices.findIndex((d) => d.key === key);
      if (at === -1) throw invalid();
      if (fileOperation !== undefined && fileOperation !== 'destroy') throw invalid();
      const [removed] = devices.splice(at, 1);
      if (fileOperation === 'destroy' && removed!.fileName) destroyFiles.push(removed!.fileName);
      return;
    }
    default:
      throw new VimFaultError(
        'NotSupported',
        `The fake vCenter does not implement deviceChange operation ${operation ?? '(none)'}`,
      );
  }
}

function power(
  ctx: FakeContext,
  self: MoRef,
  method: 'PowerOnVM_Task' | 'PowerOffVM_Task' | 'ResetVM_Task',
  descriptionId: string,
): MoRef {
  const vm = ctx.inventory.getAs(self, 'VirtualMachine');
  return ctx.tasks.start(method, descriptionId, vm, ctx.timings.taskMs, () => {
    alive(ctx, vm);
    if (vm.template) throw notSupported();
    switch (method) {
      case 'PowerOnVM_Task':
        if (vm.powerState === 'poweredOn') throw invalidPowerState('poweredOff', vm.powerState);
        return {
          commit: () => {
            setPower(ctx, vm, 'poweredOn');
            return undefined;
          },
        };
      case 'PowerOffVM_Task':
        if (vm.powerState === 'poweredOff') throw invalidPowerState('poweredOn', vm.powerState);
        return {
          commit: () => {
            setPower(ctx, vm, 'poweredOff');
            return undefined;
          },
        };
      case 'ResetVM_Task':
        if (vm.powerState !== 'poweredOn') throw invalidPowerState('poweredOn', vm.powerState);
        return {
          commit: () => {
            void ctx.agents.restart(vm.ref.value);
            return undefined;
          },
        };
    }
  });
}

/** Power changes boot and stop the VM's simulated agent: the guest runs only while powered on. */
export function setPower(ctx: FakeContext, vm: FakeVm, state: PowerState): void {
  vm.powerState = state;
  if (state === 'poweredOn') ctx.agents.boot(vm.ref.value);
  else void ctx.agents.stop(vm.ref.value);
}

function snapshot(ctx: FakeContext, vm: FakeVm, name: string, description: string): MoRef {
  const reference = { type: 'VirtualMachineSnapshot', value: ctx.inventory.nextId('snapshot') };
  ctx.inventory.add({ kind: 'VirtualMachineSnapshot', ref: reference, vm: vm.ref });
  // The snapshot freezes the current disks; the VM writes to new delta disks on top of them from now on.
  const frozen: string[] = [];
  vm.devices = vm.devices.map((d) => {
    if (d.type !== 'VirtualDisk' || !d.fileName || d.diskMode?.startsWith('independent')) return d;
    frozen.push(d.fileName);
    const delta = d.fileName.replace(/\.vmdk$/, '-000001.vmdk');
    const base = ctx.inventory.files.get(d.fileName);
    ctx.inventory.files.set(delta, {
      path: delta,
      capacityKb: base?.capacityKb ?? d.capacityInKB ?? 0,
      uuid: base?.uuid ?? FakeInventory.diskUuid(),
      parent: d.fileName,
      modified: Date.now(),
    });
    return { ...d, fileName: delta };
  });
  vm.snapshot = { ref: reference, name, description, disks: frozen };
  return reference;
}

/**
 * Destroy_Task deletes the VM and every disk file it uses, persistent ones included (vSphere does):
 * a file is kept only when another VM uses it or it is the parent of another disk (a linked clone's base).
 */
function destroyVm(ctx: FakeContext, vm: FakeVm): void {
  const { inventory } = ctx;
  inventory.objects.delete(vm.ref.value);
  if (vm.snapshot) inventory.objects.delete(vm.snapshot.ref.value);
  const folder = inventory.objects.get(vm.parent.value);
  if (folder?.kind === 'Folder') folder.children = folder.children.filter((c) => c.value !== vm.ref.value);
  const files = vm.devices.flatMap((d) => (d.fileName ? [d.fileName] : []));
  for (const path of [...files, ...(vm.snapshot?.disks ?? [])]) deleteDiskFile(ctx, path);
  void ctx.agents.stop(vm.ref.value);
}

/** Deletes a VMDK unless something still depends on it; then its parents, when they are no longer needed. */
function deleteDiskFile(ctx: FakeContext, path: string): void {
  const { inventory } = ctx;
  const file = inventory.files.get(path);
  if (!file) return;
  if (inventory.holdersOf(path).length > 0) return;
  if ([...inventory.files.values()].some((f) => f.parent === path)) return;
  if (inventory.vms().some((v) => v.snapshot?.disks.includes(path))) return;
  inventory.files.delete(path);
  if (file.parent) deleteDiskFile(ctx, file.parent);
}

/** A VM object the task was started on may have been destroyed (or killed) by the time the task runs. */
function alive(ctx: FakeContext, vm: FakeVm): void {
  if (ctx.inventory.objects.get(vm.ref.value) !== vm) throw notFound(vm.ref);
}

export function invalidPowerState(requested: PowerState, existing: PowerState): VimFaultError {
  const words: Record<PowerState, string> = {
    poweredOn: 'Powered on',
    poweredOff: 'Powered off',
    suspended: 'Suspended',
  };
  return new VimFaultError(
    'InvalidPowerState',
    `The attempted operation cannot be performed in the current state (${words[existing]}).`,
    el('requestedState', requested) + el('existingState', existing),
  );
}

export function invalidArgument(property: string): VimFaultError {
  return new VimFaultError(
    'InvalidArgument',
    `A specified parameter was not correct: ${property}`,
    el('invalidProperty', property),
  );
}

export function notSupported(): VimFaultError {
  return new VimFaultError('NotSupported', 'The operation is not supported on the object.');
}

export function fileNotFound(path: string): VimFaultError {
  return new VimFaultError('FileNotFound', `File ${path} was not found`, el('file', path));
}

export { parseDatastorePath };
