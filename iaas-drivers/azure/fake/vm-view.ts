import type { FakeContext } from './routes.js';
import type { FakeVm } from './state.js';
import { samePlatformName } from './vm-rules.js';

const TYPE = 'Microsoft.Compute/virtualMachines';

/** A VM as ARM answers it; `customData` is never returned, `userData` only with `$expand=userData`. */
export function vmView(ctx: FakeContext, vm: FakeVm, expand: 'instanceView' | 'userData' | undefined): unknown {
  const { state } = ctx;
  // Compute answers data disk ids with the resource group upper-cased: clients must compare ids case-insensitively.
  const quirkyDiskId = (name: string) =>
    `/subscriptions/${state.subscriptionId}/resourceGroups/${state.resourceGroup.toUpperCase()}/providers/Microsoft.Compute/disks/${name}`;
  const osDisk = vm.osDisk;
  return {
    name: vm.name,
    id: state.vmId(vm.name),
    type: TYPE,
    location: vm.location,
    tags: vm.tags,
    ...(vm.zones ? { zones: vm.zones } : {}),
    etag: `"${vm.etag}"`,
    properties: {
      vmId: vm.vmId,
      hardwareProfile: { vmSize: vm.vmSize },
      storageProfile: {
        imageReference: {
          ...vm.imageReference,
          ...(vm.imageReference.publisher ? { exactVersion: exactVersionOf(ctx, vm.imageReference) } : {}),
        },
        osDisk: {
          osType: 'Linux',
          name: osDisk.name,
          createOption: 'FromImage',
          caching: osDisk.caching,
          managedDisk: { storageAccountType: osDisk.storageAccountType, id: state.diskId(osDisk.name) },
          deleteOption: osDisk.deleteOption,
          ...(osDisk.diskSizeGB ? { diskSizeGB: osDisk.diskSizeGB } : {}),
        },
        dataDisks: vm.dataDisks.map((d) => {
          const disk = state.disks.get(d.diskKey);
          return {
            lun: d.lun,
            name: disk?.name ?? d.diskKey,
            createOption: 'Attach',
            caching: d.caching,
            managedDisk: { storageAccountType: disk?.sku ?? 'Standard_LRS', id: quirkyDiskId(disk?.name ?? d.diskKey) },
            deleteOption: d.deleteOption,
            diskSizeGB: disk?.sizeGb,
            toBeDetached: false,
            writeAcceleratorEnabled: false,
          };
        }),
        diskControllerType: 'SCSI',
      },
      osProfile: { ...vm.osProfile, secrets: [], allowExtensionOperations: true, requireGuestProvisionSignal: true },
      networkProfile: {
        networkInterfaces: vm.nics.map((n) => ({
          id: state.nicId(state.nics.get(n.key)?.name ?? n.key),
          properties: { primary: n.primary, deleteOption: n.deleteOption },
        })),
      },
      provisioningState: vm.provisioningState,
      timeCreated: vm.timeCreated,
      ...(expand === 'userData' && vm.userData ? { userData: vm.userData } : {}),
      ...(expand === 'instanceView' ? { instanceView: instanceView(vm) } : {}),
    },
  };
}

function instanceView(vm: FakeVm): unknown {
  const power: Record<string, string> = {
    starting: 'VM starting',
    running: 'VM running',
    stopping: 'VM stopping',
    stopped: 'VM stopped',
    deallocating: 'VM deallocating',
    deallocated: 'VM deallocated',
  };
  return {
    computerName: vm.osProfile.computerName,
    osName: 'ubuntu',
    osVersion: '24.04',
    statuses: [
      {
        code: `ProvisioningState/${vm.provisioningState.toLowerCase()}`,
        level: vm.provisioningState === 'Failed' ? 'Error' : 'Info',
        displayStatus: `Provisioning ${vm.provisioningState.toLowerCase()}`,
        time: vm.timeCreated,
      },
      ...(vm.provisioningState === 'Creating'
        ? []
        : [{ code: `PowerState/${vm.powerState}`, level: 'Info', displayStatus: power[vm.powerState] }]),
    ],
  };
}

function exactVersionOf(ctx: FakeContext, ref: Record<string, string>): string | undefined {
  const image = ctx.state.platformImages.find(
    (p) =>
      samePlatformName(p.publisher, ref.publisher) &&
      samePlatformName(p.offer, ref.offer) &&
      samePlatformName(p.sku, ref.sku),
  );
  return ref.version === 'latest' ? image?.versions.at(-1) : ref.version;
}
