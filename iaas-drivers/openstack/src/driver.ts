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
import type { OpenStackContext } from './context.js';
import { DiskOperations } from './disks.js';
import { StemcellOperations } from './stemcells.js';
import { VmOperations } from './vms.js';

/**
 * The IaaS contract on OpenStack: Nova for VMs, Cinder v3 for persistent disks, Glance v2 for stemcells,
 * authenticated by one cached Keystone v3 token. Every verb is a few plain HTTP calls; see the README table.
 */
export class OpenStackIaasDriver implements IaasDriver {
  private readonly vms: VmOperations;
  private readonly disks: DiskOperations;
  private readonly stemcells: StemcellOperations;

  constructor(private readonly ctx: OpenStackContext) {
    this.vms = new VmOperations(ctx);
    this.disks = new DiskOperations(ctx);
    this.stemcells = new StemcellOperations(ctx);
  }

  async info(options: CallOptions = {}): Promise<IaasInfo> {
    const zones = await this.ctx.compute.listAvailabilityZones({ signal: options.signal });
    return {
      name: 'openstack',
      apiVersion: 2,
      stemcellFormats: ['openstack-qcow2', 'openstack-raw', 'openstack-light'],
      zones: zones.filter((z) => z.zoneState.available).map((z) => z.zoneName),
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
    const [servers, disks] = await Promise.all([
      this.vms.list(input.tags, options.signal),
      this.disks.list(input.tags, options.signal),
    ]);
    return { vms: servers.map((s) => ({ vmId: s.id, metadata: s.metadata ?? {}, state: s.status })), disks };
  }

  /** Node's fetch pool closes idle sockets on its own; the token dies with the driver. */
  async destroy(): Promise<void> {}
}
