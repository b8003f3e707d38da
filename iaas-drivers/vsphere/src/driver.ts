import type {
  CallOptions,
  CreateDiskInput,
  CreateStemcellInput,
  CreateVmInput,
  CreatedVm,
  DiskHint,
  IaasDriver,
  IaasInfo,
} from '@slipway/contracts';
import type { VsphereContext } from './context.js';
import { DiskOperations } from './disks.js';
import { throwIfCancelled } from './signals.js';
import { StemcellOperations } from './stemcells.js';
import { VmOperations } from './vms.js';

/**
 * The IaaS contract on vCenter through the vSphere Web Services API (vim25 SOAP): VMs are clones of the
 * stemcell's template, persistent disks are independent VMDKs in a datastore folder, metadata are custom
 * attributes, the agent's settings travel as guestinfo. See the README for the method behind each verb.
 */
export class VsphereIaasDriver implements IaasDriver {
  private readonly vms: VmOperations;
  private readonly disks: DiskOperations;
  private readonly stemcells: StemcellOperations;

  constructor(
    private readonly ctx: VsphereContext,
    private readonly onDestroy: () => Promise<void>,
  ) {
    this.vms = new VmOperations(ctx);
    this.disks = new DiskOperations(ctx, this.vms);
    this.stemcells = new StemcellOperations(ctx);
  }

  /** Static facts; the cluster is the zone (as BOSH's vSphere CPI treats clusters). */
  async info(options: CallOptions = {}): Promise<IaasInfo> {
    throwIfCancelled('info', options.signal);
    return {
      name: 'vsphere',
      apiVersion: 2,
      stemcellFormats: ['vsphere-template', 'vsphere-light'],
      zones: [this.ctx.config.cluster],
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

  /** Logs the session out (vCenter limits sessions per user) and closes the connection pool. */
  async destroy(): Promise<void> {
    await this.onDestroy();
  }
}
