import type {
  CallOptions,
  CloudInventory,
  CreateDiskInput,
  CreateStemcellInput,
  CreateVmInput,
  CreatedVm,
  DiskHint,
  IaasDriver,
  IaasInfo,
} from '@slipway/contracts';
import type { AzureContext } from './context.js';
import { DiskOperations } from './disks.js';
import { VmSizeSelector } from './sizes.js';
import { StemcellOperations } from './stemcells.js';
import type { HttpsTransport } from './transport.js';
import { VmOperations } from './vms.js';

/**
 * The IaaS contract on Azure Resource Manager: Microsoft.Compute VMs, managed disks, snapshots and images,
 * Microsoft.Network NICs, one cached Entra ID token. Every verb is a few ARM calls; see the README table.
 */
export class AzureIaasDriver implements IaasDriver {
  private readonly vms: VmOperations;
  private readonly disks: DiskOperations;
  private readonly stemcells: StemcellOperations;

  constructor(
    private readonly ctx: AzureContext,
    private readonly transport: HttpsTransport,
  ) {
    this.vms = new VmOperations(ctx, new VmSizeSelector(ctx.api, ctx.config.location, ctx.config.default_vm_size));
    this.disks = new DiskOperations(ctx);
    this.stemcells = new StemcellOperations(ctx);
  }

  /** No call: the zones are the operator's (a region's zones depend on the VM size, which ARM checks at create). */
  async info(): Promise<IaasInfo> {
    return {
      name: 'azure',
      apiVersion: 2,
      stemcellFormats: ['azure-vhd', 'azure-light'],
      ...(this.ctx.config.zones?.length ? { zones: [...this.ctx.config.zones] } : {}),
    };
  }

  createStemcell(input: CreateStemcellInput, options?: CallOptions): Promise<{ stemcellId: string }> {
    return this.stemcells.create(input, options);
  }

  deleteStemcell(input: { stemcellId: string }, options?: CallOptions): Promise<void> {
    return this.stemcells.delete(input.stemcellId, options);
  }

  createVm(input: CreateVmInput, options?: CallOptions): Promise<CreatedVm> {
    return this.vms.create(input, options);
  }

  deleteVm(input: { vmId: string }, options?: CallOptions): Promise<void> {
    return this.vms.delete(input.vmId, options);
  }

  hasVm(input: { vmId: string }, options?: CallOptions): Promise<boolean> {
    return this.vms.exists(input.vmId, options);
  }

  rebootVm(input: { vmId: string }, options?: CallOptions): Promise<void> {
    return this.vms.reboot(input.vmId, options);
  }

  setVmMetadata(input: { vmId: string; metadata: Record<string, string> }, options?: CallOptions): Promise<void> {
    return this.vms.setMetadata(input.vmId, input.metadata, options);
  }

  createDisk(input: CreateDiskInput, options?: CallOptions): Promise<{ diskId: string }> {
    return this.disks.create(input, options);
  }

  deleteDisk(input: { diskId: string }, options?: CallOptions): Promise<void> {
    return this.disks.delete(input.diskId, options);
  }

  attachDisk(input: { vmId: string; diskId: string }, options?: CallOptions): Promise<{ hint: DiskHint }> {
    return this.disks.attach(input.vmId, input.diskId, options);
  }

  detachDisk(input: { vmId: string; diskId: string }, options?: CallOptions): Promise<void> {
    return this.disks.detach(input.vmId, input.diskId, options);
  }

  hasDisk(input: { diskId: string }, options?: CallOptions): Promise<boolean> {
    return this.disks.exists(input.diskId, options);
  }

  getDisks(input: { vmId: string }, options?: CallOptions): Promise<string[]> {
    return this.disks.ofVm(input.vmId, options);
  }

  resizeDisk(input: { diskId: string; sizeMb: number }, options?: CallOptions): Promise<void> {
    return this.disks.resize(input.diskId, input.sizeMb, options);
  }

  snapshotDisk(
    input: { diskId: string; metadata?: Record<string, string> },
    options?: CallOptions,
  ): Promise<{ snapshotId: string }> {
    return this.disks.snapshot(input.diskId, input.metadata, options);
  }

  deleteSnapshot(input: { snapshotId: string }, options?: CallOptions): Promise<void> {
    return this.disks.deleteSnapshot(input.snapshotId, options);
  }

  async listResources(input: { tags: Record<string, string> }, options: CallOptions = {}): Promise<CloudInventory> {
    const [vms, disks] = await Promise.all([
      this.vms.list(input.tags, options.signal),
      this.disks.list(input.tags, options.signal),
    ]);
    return {
      vms: vms.map((vm) => ({
        vmId: vm.name,
        metadata: vm.tags ?? {},
        ...(vm.properties.provisioningState ? { state: vm.properties.provisioningState } : {}),
      })),
      disks,
    };
  }

  /** Closes the keep-alive sockets; the token dies with the driver. */
  async destroy(): Promise<void> {
    this.transport.destroy();
  }
}
