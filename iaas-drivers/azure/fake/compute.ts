import { ArmHttpError, objectAt, stringTags } from './http.js';
import { applyDataDisks, checkDataDisks } from './data-disks.js';
import { busy, checkLocation, checkName, checkZones, page, propertiesOf, resourceNotFound } from './resource-rules.js';
import {
  SEGMENT,
  groupPath,
  subscriptionPath,
  type FakeContext,
  type Reply,
  type Route,
  type RouteCall,
} from './routes.js';
import { VM_SIZES, armTime, newGuid, type FakeVm } from './state.js';
import { checkAdmin, checkData, checkImage, checkLinux, checkNics, checkSize } from './vm-rules.js';
import { vmView } from './vm-view.js';

const TYPE = 'Microsoft.Compute/virtualMachines';
const PREEMPTED = {
  code: 'OperationPreempted',
  message: 'Operation execution has been preempted by a more recent operation.',
  status: 409,
};

/** Microsoft.Compute/virtualMachines: create or update, get (instance view), update, delete, restart, start, deallocate, list; VM sizes. */
export function computeRoutes(ctx: FakeContext): Route[] {
  const vm = groupPath(`Microsoft\\.Compute/virtualMachines/${SEGMENT}`);
  const action = (name: string) => groupPath(`Microsoft\\.Compute/virtualMachines/${SEGMENT}/${name}`);
  const base = { schedule: 'compute' as const, resourceType: TYPE };
  return [
    {
      ...base,
      method: 'PUT',
      path: vm,
      operation: 'VirtualMachines_CreateOrUpdate',
      handle: (call) => putVm(ctx, call),
    },
    {
      ...base,
      method: 'GET',
      path: vm,
      operation: 'VirtualMachines_Get',
      handle: (call) => ({ status: 200, body: vmView(ctx, vmOr404(ctx, call.params[2]!), expandOf(call)) }),
    },
    { ...base, method: 'PATCH', path: vm, operation: 'VirtualMachines_Update', handle: (call) => patchVm(ctx, call) },
    { ...base, method: 'DELETE', path: vm, operation: 'VirtualMachines_Delete', handle: (call) => deleteVm(ctx, call) },
    {
      ...base,
      method: 'POST',
      path: action('restart'),
      operation: 'VirtualMachines_Restart',
      handle: (call) => powerAction(ctx, call, 'restart'),
    },
    {
      ...base,
      method: 'POST',
      path: action('start'),
      operation: 'VirtualMachines_Start',
      handle: (call) => powerAction(ctx, call, 'start'),
    },
    {
      ...base,
      method: 'POST',
      path: action('deallocate'),
      operation: 'VirtualMachines_Deallocate',
      handle: (call) => powerAction(ctx, call, 'deallocate'),
    },
    {
      ...base,
      method: 'GET',
      path: groupPath('Microsoft\\.Compute/virtualMachines'),
      operation: 'VirtualMachines_List',
      handle: (call) =>
        page(
          ctx,
          call,
          [...ctx.state.vms.values()].map((v) => vmView(ctx, v, undefined)),
        ),
    },
    {
      ...base,
      method: 'GET',
      path: subscriptionPath(`Microsoft\\.Compute/locations/${SEGMENT}/vmSizes`),
      operation: 'VirtualMachineSizes_List',
      resourceType: 'Microsoft.Compute/locations/vmSizes',
      handle: (call) => {
        if (call.params[1]!.toLowerCase() !== ctx.state.location)
          throw new ArmHttpError(
            404,
            'NoRegisteredProviderFound',
            `No registered resource provider found for location '${call.params[1]}'.`,
          );
        return {
          status: 200,
          body: {
            value: VM_SIZES.map((s) => ({
              name: s.name,
              numberOfCores: s.numberOfCores,
              osDiskSizeInMB: 1047552,
              resourceDiskSizeInMB: s.resourceDiskSizeInMB,
              memoryInMB: s.memoryInMB,
              maxDataDiskCount: s.maxDataDiskCount,
            })),
          },
        };
      },
    },
  ];
}

export function vmOr404(ctx: FakeContext, name: string): FakeVm {
  const vm = ctx.state.vms.get(name.toLowerCase());
  if (!vm) throw resourceNotFound(ctx, TYPE, name);
  return vm;
}

function expandOf(call: RouteCall): 'instanceView' | 'userData' | undefined {
  const expand = call.query.get('$expand');
  if (expand === null || expand === '') return undefined;
  if (expand === 'instanceView' || expand === 'userData') return expand;
  throw new ArmHttpError(
    400,
    'InvalidParameter',
    `The value '${expand}' of parameter '$expand' is not supported. Supported values are 'instanceView', 'userData'.`,
    {},
    '$expand',
  );
}

function putVm(ctx: FakeContext, call: RouteCall): Reply {
  const { state } = ctx;
  const name = call.params[2]!;
  checkName(name, TYPE, 64);
  const location = checkLocation(ctx, call.body, TYPE);
  const properties = propertiesOf(call.body);
  const existing = state.vms.get(name.toLowerCase());
  if (existing) return updateVm(ctx, existing, call, properties, 'PUT');

  const vmSize = checkSize(objectAt(properties.hardwareProfile).vmSize);
  const zones = checkZones(ctx, call.body.zones, state.vmId(name));
  const storage = objectAt(properties.storageProfile);
  const imageReference = checkImage(ctx, objectAt(storage.imageReference));
  const osDisk = objectAt(storage.osDisk);
  if (osDisk.createOption !== undefined && osDisk.createOption !== 'FromImage') {
    throw new ArmHttpError(
      400,
      'InvalidParameter',
      `The value '${String(osDisk.createOption)}' of parameter osDisk.createOption is not supported for a VM from an image.`,
      {},
      'osDisk.createOption',
    );
  }
  const osProfile = objectAt(properties.osProfile);
  const adminUsername = checkAdmin(osProfile);
  const linuxConfiguration = checkLinux(objectAt(osProfile.linuxConfiguration));
  const customData = checkData(osProfile.customData, 'customData', 'Custom data in OSProfile');
  const userData = checkData(properties.userData, 'userData', 'UserData');
  const nics = checkNics(ctx, name, objectAt(properties.networkProfile).networkInterfaces);
  const used = state.liveVms().length;
  if (state.quota.vms !== undefined && used + 1 > state.quota.vms) {
    const cores = VM_SIZES.find((s) => s.name === vmSize)!.numberOfCores;
    throw new ArmHttpError(
      409,
      'OperationNotAllowed',
      `Operation could not be completed as it results in exceeding approved Total Regional Cores quota. Additional details - Deployment Model: Resource Manager, Location: ${location}, ` +
        `Current Limit: ${state.quota.vms * cores}, Current Usage: ${used * cores}, Additional Required: ${cores}, (Minimum) New Limit Required: ${(used + 1) * cores}. ` +
        'Submit a request for Quota increase at https://aka.ms/ProdportalCRP/#blade/Microsoft_Azure_Capacity/UsageAndQuota.ReactView by specifying parameters listed in the ‘Details’ section for deployment to succeed.',
    );
  }
  const osName =
    typeof osDisk.name === 'string' && osDisk.name ? osDisk.name : `${name}_OsDisk_1_${newGuid().replace(/-/g, '')}`;
  const vm: FakeVm = {
    name,
    location,
    tags: stringTags(call.body.tags),
    ...(zones ? { zones } : {}),
    vmId: newGuid(),
    vmSize,
    imageReference,
    osDisk: {
      name: osName,
      caching: typeof osDisk.caching === 'string' ? osDisk.caching : 'ReadWrite',
      storageAccountType: String(objectAt(osDisk.managedDisk).storageAccountType ?? 'Premium_LRS'),
      ...(typeof osDisk.diskSizeGB === 'number' ? { diskSizeGB: osDisk.diskSizeGB } : {}),
      deleteOption: osDisk.deleteOption === 'Delete' ? 'Delete' : 'Detach',
    },
    dataDisks: [],
    osProfile: {
      computerName: typeof osProfile.computerName === 'string' ? osProfile.computerName : name,
      adminUsername,
      linuxConfiguration,
    },
    ...(customData ? { customData } : {}),
    ...(userData ? { userData } : {}),
    nics,
    provisioningState: 'Creating',
    powerState: 'starting',
    etag: 1,
    timeCreated: armTime(),
  };
  const disks = checkDataDisks(ctx, vm, storage.dataDisks);
  state.vms.set(name.toLowerCase(), vm);
  applyDataDisks(ctx, vm, disks);
  for (const nic of nics) state.nics.get(nic.key)!.vmKey = state.vmId(name).toLowerCase();
  const operation = ctx.operations.start({
    operation: 'VirtualMachines_CreateOrUpdate',
    schedule: 'compute',
    apiVersion: call.apiVersion,
    method: 'PUT',
    delayMs: ctx.timings.provisionMs,
    succeed: () => {
      if (state.vms.get(name.toLowerCase()) !== vm || vm.provisioningState !== 'Creating') return PREEMPTED;
      state.disks.set(osName.toLowerCase(), {
        name: osName,
        location,
        sku: vm.osDisk.storageAccountType,
        ...(zones ? { zones } : {}),
        tags: {},
        sizeGb: vm.osDisk.diskSizeGB ?? 30,
        createOption: 'FromImage',
        provisioningState: 'Succeeded',
        managedBy: state.vmId(name).toLowerCase(),
        uniqueId: newGuid(),
        timeCreated: armTime(),
        osType: 'Linux',
      });
      Object.assign(vm, { provisioningState: 'Succeeded', powerState: 'running' });
      vm.etag += 1;
      ctx.agents.boot(vm.name);
    },
    fail: () => {
      Object.assign(vm, { provisioningState: 'Failed', powerState: 'deallocated' });
    },
    result: () => (state.vms.get(name.toLowerCase()) ? vmView(ctx, vm, undefined) : undefined),
  });
  return ctx.operations.accepted(operation, 201, vmView(ctx, vm, undefined));
}

/** PUT on an existing VM, or PATCH: the VM's model changes now; the operation ends Succeeded. */
function updateVm(
  ctx: FakeContext,
  vm: FakeVm,
  call: RouteCall,
  properties: Record<string, unknown>,
  method: 'PUT' | 'PATCH',
): Reply {
  const body = call.body;
  if (vm.provisioningState === 'Deleting') {
    throw new ArmHttpError(
      409,
      'OperationNotAllowed',
      `Operation '${method === 'PUT' ? 'createOrUpdate' : 'update'}' is not allowed on VM '${vm.name}' since the VM is marked for deletion. You can only retry the Delete operation (or wait for an ongoing one to complete).`,
    );
  }
  if (vm.provisioningState === 'Creating' || vm.provisioningState === 'Updating') throw busy();
  const osProfile = properties.osProfile === undefined ? undefined : objectAt(properties.osProfile);
  if (osProfile?.customData !== undefined && osProfile.customData !== vm.customData) {
    throw new ArmHttpError(
      409,
      'PropertyChangeNotAllowed',
      "Changing property 'customData' is not allowed.",
      {},
      'customData',
    );
  }
  const hardware = properties.hardwareProfile === undefined ? undefined : objectAt(properties.hardwareProfile);
  const vmSize = hardware?.vmSize !== undefined ? checkSize(hardware.vmSize) : vm.vmSize;
  const storage = properties.storageProfile === undefined ? undefined : objectAt(properties.storageProfile);
  const disks =
    storage?.dataDisks !== undefined ? checkDataDisks(ctx, { ...vm, vmSize }, storage.dataDisks) : undefined;
  const userData =
    properties.userData !== undefined ? checkData(properties.userData, 'userData', 'UserData') : undefined;
  if (body.tags !== undefined || method === 'PUT') vm.tags = stringTags(body.tags);
  vm.vmSize = vmSize;
  if (disks) applyDataDisks(ctx, vm, disks);
  if (userData !== undefined) vm.userData = userData;
  vm.etag += 1;
  const previous = vm.provisioningState;
  vm.provisioningState = 'Updating';
  const operation = ctx.operations.start({
    operation: method === 'PUT' ? 'VirtualMachines_CreateOrUpdate' : 'VirtualMachines_Update',
    schedule: 'compute',
    apiVersion: call.apiVersion,
    method,
    delayMs: ctx.timings.transitionMs,
    succeed: () => {
      if (vm.provisioningState !== 'Updating') return PREEMPTED;
      vm.provisioningState = 'Succeeded';
      // A failed VM that a PUT provisioned again comes up now.
      if (previous === 'Failed') {
        vm.powerState = 'running';
        ctx.agents.boot(vm.name);
      }
    },
    fail: () => {
      vm.provisioningState = 'Failed';
    },
    result: () => vmView(ctx, vm, undefined),
  });
  return ctx.operations.accepted(operation, 200, vmView(ctx, vm, undefined));
}

function patchVm(ctx: FakeContext, call: RouteCall): Reply {
  const vm = vmOr404(ctx, call.params[2]!);
  const ifMatch = call.req.headers['if-match'];
  if (typeof ifMatch === 'string' && ifMatch !== '*' && ifMatch !== `"${vm.etag}"`) {
    throw new ArmHttpError(
      412,
      'PreconditionFailed',
      `The specified precondition 'If-Match = ${ifMatch}' failed: the VM's etag is "${vm.etag}".`,
    );
  }
  return updateVm(ctx, vm, call, propertiesOf(call.body), 'PATCH');
}

/** Compute deletes asynchronously: Deleting, then gone with its deleteOption=Delete NIC and OS disk; data disks detach. */
function deleteVm(ctx: FakeContext, call: RouteCall): Reply {
  const vm = ctx.state.vms.get(call.params[2]!.toLowerCase());
  if (!vm) return { status: 204 };
  // A delete preempts a create or update in flight: that operation ends Canceled (OperationPreempted).
  vm.provisioningState = 'Deleting';
  const operation = ctx.operations.start({
    operation: 'VirtualMachines_Delete',
    schedule: 'compute',
    apiVersion: call.apiVersion,
    method: 'DELETE',
    delayMs: ctx.timings.transitionMs,
    succeed: () => removeVm(ctx, vm),
    fail: () => {
      vm.provisioningState = 'Failed';
    },
  });
  return ctx.operations.accepted(operation, 202);
}

/** The VM stops existing, with what its deleteOptions say goes with it. Also the fake's `killVm`. */
export async function removeVm(ctx: FakeContext, vm: FakeVm, options: { takeAll?: boolean } = {}): Promise<void> {
  const { state } = ctx;
  if (state.vms.get(vm.name.toLowerCase()) !== vm) return;
  state.vms.delete(vm.name.toLowerCase());
  for (const entry of vm.dataDisks) {
    const disk = state.disks.get(entry.diskKey);
    if (!disk) continue;
    delete disk.managedBy;
    if (entry.deleteOption === 'Delete' && !options.takeAll) state.disks.delete(entry.diskKey);
  }
  for (const nic of vm.nics) {
    if (nic.deleteOption === 'Delete' || options.takeAll) state.nics.delete(nic.key);
    else if (state.nics.get(nic.key)) delete state.nics.get(nic.key)!.vmKey;
  }
  const osKey = vm.osDisk.name.toLowerCase();
  if (vm.osDisk.deleteOption === 'Delete' || options.takeAll) state.disks.delete(osKey);
  else if (state.disks.get(osKey)) delete state.disks.get(osKey)!.managedBy;
  await ctx.agents.stop(vm.name);
}

function powerAction(ctx: FakeContext, call: RouteCall, action: 'restart' | 'start' | 'deallocate'): Reply {
  const vm = vmOr404(ctx, call.params[2]!);
  if (vm.provisioningState === 'Deleting') {
    throw new ArmHttpError(
      409,
      'OperationNotAllowed',
      `Operation '${action}' is not allowed on VM '${vm.name}' since the VM is marked for deletion. You can only retry the Delete operation (or wait for an ongoing one to complete).`,
    );
  }
  if (vm.provisioningState !== 'Succeeded') throw busy();
  if (action === 'restart' && (vm.powerState === 'deallocated' || vm.powerState === 'stopped')) {
    throw new ArmHttpError(
      409,
      'OperationNotAllowed',
      `Operation 'restart' is not allowed on VM '${vm.name}' since the VM is ${vm.powerState}. Start the VM instead.`,
    );
  }
  vm.powerState = action === 'deallocate' ? 'deallocating' : 'starting';
  const operation = ctx.operations.start({
    operation: `VirtualMachines_${action[0]!.toUpperCase()}${action.slice(1)}`,
    schedule: 'compute',
    apiVersion: call.apiVersion,
    method: 'POST',
    delayMs: ctx.timings.transitionMs,
    succeed: async () => {
      if (!ctx.state.vms.has(vm.name.toLowerCase())) return;
      switch (action) {
        case 'restart':
          vm.powerState = 'running';
          // The guest restarts: its agent process dies and boots again, reading its settings anew.
          await ctx.agents.restart(vm.name);
          return;
        case 'start':
          vm.powerState = 'running';
          ctx.agents.boot(vm.name);
          return;
        case 'deallocate':
          vm.powerState = 'deallocated';
          await ctx.agents.stop(vm.name);
      }
    },
  });
  return ctx.operations.accepted(operation, 202);
}
