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
import type { GcpContext } from './context.js';
import { DiskOperations } from './disks.js';
import { ImageCatalog } from './images.js';
import { regionOf } from './names.js';
import type { Zone } from './resources.js';
import { StemcellOperations } from './stemcells.js';
import { VmOperations } from './vms.js';

/**
 * The IaaS contract on Google Compute Engine v1: instances for VMs, zonal persistent disks, global
 * snapshots and images, every mutation followed through its Operation. Plain fetch, one cached OAuth2
 * token; see the README table for the calls each verb makes.
 */
export class GcpIaasDriver implements IaasDriver {
  private readonly vms: VmOperations;
  private readonly disks: DiskOperations;
  private readonly stemcells: StemcellOperations;

  constructor(private readonly ctx: GcpContext) {
    const images = new ImageCatalog(ctx.client);
    this.vms = new VmOperations(ctx, images);
    this.disks = new DiskOperations(ctx, this.vms);
    this.stemcells = new StemcellOperations(ctx, images);
  }

  /** The zones of the default zone's region that are UP (`zones.list`). */
  async info(options: CallOptions = {}): Promise<IaasInfo> {
    const region = regionOf(this.ctx.config.zone);
    const zones = await this.ctx.client.listAll<Zone>({
      method: 'zones.list',
      path: this.ctx.client.projectPath('/zones'),
      signal: options.signal,
    });
    return {
      name: 'gcp',
      apiVersion: 2,
      stemcellFormats: ['google-rawdisk', 'google-light'],
      zones: zones
        .filter((z) => z.status === 'UP' && (!z.region || z.region.endsWith(`/regions/${region}`)))
        .map((z) => z.name),
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
    return { vms, disks };
  }

  /** Node's fetch pool closes idle sockets on its own; the token dies with the driver. */
  async destroy(): Promise<void> {}
}
