import type { EC2Client } from '@aws-sdk/client-ec2';
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
import type { AwsContext } from './context.js';
import { DiskOperations } from './disks.js';
import { SnapshotOperations } from './snapshots.js';
import { StemcellOperations } from './stemcells.js';
import { VmOperations } from './vms.js';

/**
 * The IaaS contract on AWS: EC2 instances for VMs, EBS volumes and snapshots for persistent disks, AMIs for
 * stemcells, all through the EC2 Query API (one SDK client, one attempt per call). See the README table.
 */
export class AwsIaasDriver implements IaasDriver {
  private readonly vms: VmOperations;
  private readonly disks: DiskOperations;
  private readonly snapshots: SnapshotOperations;
  private readonly stemcells: StemcellOperations;

  constructor(
    private readonly ctx: AwsContext,
    private readonly client: EC2Client,
  ) {
    this.vms = new VmOperations(ctx);
    this.disks = new DiskOperations(ctx);
    this.snapshots = new SnapshotOperations(ctx);
    this.stemcells = new StemcellOperations(ctx);
  }

  async info(options: CallOptions = {}): Promise<IaasInfo> {
    const zones = await this.ctx.ec2.describeAvailabilityZones({ signal: options.signal });
    return {
      name: 'aws',
      apiVersion: 2,
      stemcellFormats: ['aws-light', 'aws-ebs-snapshot'],
      zones: zones
        .filter((z) => z.State === 'available' && (z.ZoneType ?? 'availability-zone') === 'availability-zone')
        .map((z) => z.ZoneName!),
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
    return this.snapshots.create(input.diskId, input.metadata, options);
  }

  deleteSnapshot(input: { snapshotId: string }, options?: CallOptions): Promise<void> {
    return this.snapshots.delete(input.snapshotId, options);
  }

  async listResources(input: { tags: Record<string, string> }, options: CallOptions = {}): Promise<CloudInventory> {
    const [vms, disks] = await Promise.all([
      this.vms.list(input.tags, options.signal),
      this.disks.list(input.tags, options.signal),
    ]);
    return { vms, disks };
  }

  /** Closes the SDK's keep-alive sockets. */
  async destroy(): Promise<void> {
    this.client.destroy();
  }
}
