import type { AgentSettings } from './agent.js';
import type { CallOptions } from './call.js';

/**
 * The IaaS contract follows the BOSH CPI: a small set of verbs that every cloud can implement.
 *
 * Rules every driver keeps (the conformance suite checks each):
 * - Every verb honours `options.signal`: an aborted call stops waiting and throws `Cancelled`.
 * - `options.requestId` is an idempotency key: createVm / createDisk / createStemcell / snapshotDisk called
 *   twice with the same requestId return the same resource, even across a restart of the control plane.
 * - Deleting what is already gone succeeds; detaching what is not attached succeeds.
 * - Errors are `SlipwayError`s: transient ones (`Retryable`, `RateLimited`) are retryable, permanent ones are
 *   not. Drivers never retry on their own: the engine owns retries, backoff and timeouts.
 */
export interface IaasDriver {
  /** Static facts about the driver and the cloud endpoint it talks to. */
  info(options?: CallOptions): Promise<IaasInfo>;

  /** Uploads or registers a VM image ("stemcell"); returns the cloud's image id. */
  createStemcell(input: CreateStemcellInput, options?: CallOptions): Promise<{ stemcellId: string }>;
  /** Removes an image. Succeeds when it is already gone. */
  deleteStemcell(input: { stemcellId: string }, options?: CallOptions): Promise<void>;

  /**
   * Creates and powers on a VM from a stemcell, delivering `env` (the agent's settings) as the cloud
   * delivers user data. Returns when the cloud has accepted the VM, not when the agent is up. On failure the
   * driver cleans up what it created. The same requestId returns the same VM.
   */
  createVm(input: CreateVmInput, options?: CallOptions): Promise<CreatedVm>;
  /** Deletes a VM (its attached persistent disks survive, detached). Succeeds when it is already gone. */
  deleteVm(input: { vmId: string }, options?: CallOptions): Promise<void>;
  /** Whether the VM exists (in any power state). Used by cloud checks and the resurrector. */
  hasVm(input: { vmId: string }, options?: CallOptions): Promise<boolean>;
  /** Hard-reboots a VM. Capability `vm.reboot`. */
  rebootVm?(input: { vmId: string }, options?: CallOptions): Promise<void>;
  /** Sets the cloud's tags/labels on a VM, merged with what is there. */
  setVmMetadata(input: { vmId: string; metadata: Record<string, string> }, options?: CallOptions): Promise<void>;

  /** Creates a persistent disk of `sizeMb` MiB; `vmId` is a placement hint (same zone). */
  createDisk(input: CreateDiskInput, options?: CallOptions): Promise<{ diskId: string }>;
  /** Deletes a persistent disk. Succeeds when it is already gone; fails with `Conflict` while attached. */
  deleteDisk(input: { diskId: string }, options?: CallOptions): Promise<void>;
  /** Attaches a disk to a VM; attaching it to the VM it is already on succeeds. Returns how the agent finds it. */
  attachDisk(input: { vmId: string; diskId: string }, options?: CallOptions): Promise<{ hint: DiskHint }>;
  /** Detaches a disk; succeeds when it is not attached to that VM, or the VM is gone. */
  detachDisk(input: { vmId: string; diskId: string }, options?: CallOptions): Promise<void>;
  /** Whether the disk exists. */
  hasDisk(input: { diskId: string }, options?: CallOptions): Promise<boolean>;
  /** Ids of the persistent disks attached to a VM. */
  getDisks(input: { vmId: string }, options?: CallOptions): Promise<string[]>;
  /** Grows a disk in place. Capability `disk.resize`; without it the engine creates a new disk and copies. */
  resizeDisk?(input: { diskId: string; sizeMb: number }, options?: CallOptions): Promise<void>;
  /** Snapshots a disk. Capability `disk.snapshot`. */
  snapshotDisk?(
    input: { diskId: string; metadata?: Record<string, string> },
    options?: CallOptions,
  ): Promise<{ snapshotId: string }>;
  /** Deletes a snapshot; succeeds when already gone. Capability `disk.snapshot`. */
  deleteSnapshot?(input: { snapshotId: string }, options?: CallOptions): Promise<void>;

  /**
   * Lists the VMs and disks this control plane created on the cloud (found by the `slipway.*` tags it set).
   * Capability `inventory`; cloud checks (`slipway doctor`) use it to find leftovers of a crash.
   */
  listResources?(input: { tags: Record<string, string> }, options?: CallOptions): Promise<CloudInventory>;

  /** Present only on simulated clouds (sandbox, fakes); capability `rehearsal`. */
  readonly rehearsal?: FailureRehearsal;

  /** Releases connections and timers. The driver is not used afterwards. */
  destroy(): Promise<void>;
}

/** Optional IaaS verbs, declared in the plugin module's `capabilities`. */
export const IAAS_CAPABILITIES = ['vm.reboot', 'disk.resize', 'disk.snapshot', 'inventory', 'rehearsal'] as const;
export type IaasCapability = (typeof IAAS_CAPABILITIES)[number];

export interface IaasInfo {
  /** The driver's name, e.g. `sandbox`, `aws`. */
  name: string;
  /** CPI-style API version this driver speaks (2 = networks returned by createVm, disk hints). */
  apiVersion: number;
  stemcellFormats: string[];
  /** Availability zones the driver can place VMs in, when the cloud has them. */
  zones?: string[];
}

export interface CreateStemcellInput {
  name: string;
  version: string;
  /** Path or URL of the image; clouds that register images by reference ignore it. */
  imagePath?: string;
  cloudProperties?: Record<string, unknown>;
}

export interface VmResources {
  cpu: number;
  memoryMb: number;
  ephemeralDiskMb: number;
  /** A cloud-specific instance type, when the plan names one (`m5.large`, `e2-standard-2`). */
  instanceType?: string;
}

export interface CreateVmInput {
  /** The agent id also given in `env`; drivers tag the VM with it. */
  agentId: string;
  stemcellId: string;
  resources: VmResources;
  /** Cloud-specific extras from the plan (subnet, security groups, folder...). */
  cloudProperties?: Record<string, unknown>;
  /** The address the network driver allocated for this VM. */
  network: { ip: string; netmask?: string; gateway?: string; dns?: string[] };
  /** Persistent disks this VM will get: a placement hint (same zone). */
  diskHints?: string[];
  zone?: string;
  /** The agent's bootstrap settings: delivered as the cloud delivers user data. */
  env: AgentSettings;
  /** Tags to set at creation (`slipway.cluster`, `slipway.instance`...). */
  metadata?: Record<string, string>;
}

export interface CreatedVm {
  vmId: string;
  /** The address the cloud gave, when it differs from the requested one. */
  ip?: string;
  zone?: string;
}

export interface CreateDiskInput {
  sizeMb: number;
  cloudProperties?: Record<string, unknown>;
  /** Placement hint: the VM the disk will be attached to. */
  vmId?: string;
  zone?: string;
  metadata?: Record<string, string>;
}

/** How the agent finds an attached disk on the VM (BOSH v2 disk hints). */
export type DiskHint =
  | { kind: 'path'; path: string }
  | { kind: 'volumeId'; volumeId: string }
  | { kind: 'lun'; lun: number; hostDeviceId?: string }
  | { kind: 'directory'; path: string };

export interface CloudInventory {
  vms: Array<{ vmId: string; metadata: Record<string, string>; state?: string }>;
  disks: Array<{ diskId: string; vmId?: string; metadata: Record<string, string>; sizeMb?: number }>;
}

/**
 * Failure rehearsal, offered by simulated clouds (the sandbox, every driver's fake) so operators and tests
 * can make a VM die or a call fail on purpose: `slipway sandbox kill-vm CID`. Real clouds do not offer it.
 * Exposed as `IaasDriver.rehearsal` with capability `rehearsal`.
 */
export interface FailureRehearsal {
  /** The VM stops existing as if the host died; its agent stops; its disks become detached. */
  killVm(vmId: string): Promise<void>;
  /** The VM keeps existing but its agent stops answering (an unresponsive agent). */
  hangAgent(vmId: string): Promise<void>;
  /** A persistent disk detaches from its VM behind the control plane's back. */
  detachDisk(diskId: string): Promise<void>;
  /** The next `count` calls of `verb` (a contract verb name, e.g. `createVm`) fail with `error`. */
  failNext(
    verb: string,
    error: {
      code: 'Retryable' | 'RateLimited' | 'CloudError' | 'QuotaExceeded' | 'VmCreationFailed';
      message?: string;
    },
    count?: number,
  ): void;
  /** What the simulated cloud holds right now. */
  inventory(): Promise<CloudInventory>;
}
