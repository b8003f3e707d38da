import { randomBytes } from 'node:crypto';

export type InstanceStateName = 'pending' | 'running' | 'shutting-down' | 'terminated' | 'stopping' | 'stopped';

/** EC2's numeric state codes (the low byte of `instanceState.code`). */
export const INSTANCE_STATE_CODES: Record<InstanceStateName, number> = {
  pending: 0,
  running: 16,
  'shutting-down': 32,
  terminated: 48,
  stopping: 64,
  stopped: 80,
};

/** An EC2 instance as the fake holds it. */
export interface FakeInstance {
  id: string;
  reservationId: string;
  imageId: string;
  instanceType: string;
  state: InstanceStateName;
  stateReason?: { code: string; message: string };
  /** The `reason` text EC2 shows beside a state change ("User initiated (2024-...)"). */
  stateTransitionReason: string;
  subnetId: string;
  vpcId: string;
  zone: string;
  privateIp: string;
  securityGroupIds: string[];
  keyName?: string;
  iamInstanceProfile?: string;
  /** Base64, as given to RunInstances. */
  userData?: string;
  httpTokens: 'required' | 'optional';
  tags: Map<string, string>;
  clientToken?: string;
  launchTime: string;
  rootDeviceName: string;
  architecture: string;
  /** ms since the epoch, for the consistency lag. */
  createdAt: number;
  /** A request has seen it: the consistency lag is over for it. */
  seen?: boolean;
  /** ms since the epoch, once terminated: how long it stays visible. */
  terminatedAt?: number;
}

export type VolumeStateName = 'creating' | 'available' | 'in-use' | 'deleting' | 'deleted' | 'error';
export type AttachmentStateName = 'attaching' | 'attached' | 'detaching' | 'detached';

export interface FakeAttachment {
  instanceId: string;
  device: string;
  state: AttachmentStateName;
  attachTime: string;
  deleteOnTermination: boolean;
}

export interface FakeModification {
  state: 'modifying' | 'optimizing' | 'completed' | 'failed';
  originalSize: number;
  targetSize: number;
  progress: number;
  startTime: string;
  endTime?: string;
}

/** An EBS volume. */
export interface FakeVolume {
  id: string;
  size: number;
  zone: string;
  type: string;
  iops?: number;
  throughput?: number;
  encrypted: boolean;
  kmsKeyId?: string;
  snapshotId?: string;
  state: VolumeStateName;
  tags: Map<string, string>;
  createTime: string;
  createdAt: number;
  seen?: boolean;
  attachment?: FakeAttachment;
  clientToken?: string;
  modification?: FakeModification;
  /** Made by RunInstances (root, ephemeral): outside the CreateVolume quota. */
  launchVolume: boolean;
}

export interface FakeSnapshot {
  id: string;
  volumeId: string;
  volumeSize: number;
  state: 'pending' | 'completed' | 'error';
  progress: number;
  startTime: string;
  description: string;
  ownerId: string;
  encrypted: boolean;
  tags: Map<string, string>;
  createdAt: number;
  seen?: boolean;
}

export interface FakeImage {
  id: string;
  name: string;
  description?: string;
  state: 'pending' | 'available' | 'failed';
  ownerId: string;
  isPublic: boolean;
  architecture: string;
  rootDeviceName: string;
  /** The root snapshot and its size in GiB. */
  snapshotId: string;
  rootSize: number;
  virtualizationType: string;
  enaSupport: boolean;
  imdsSupport?: string;
  tags: Map<string, string>;
  creationDate: string;
  createdAt: number;
  seen?: boolean;
}

export interface FakeSubnet {
  id: string;
  vpcId: string;
  zone: string;
  zoneId: string;
  cidr: string;
}

/** What a ClientToken was spent on, and a fingerprint of the parameters it came with. */
export interface TokenRecord {
  fingerprint: string;
  ids: string[];
}

/** Everything the fake cloud holds. One instance per startFake(); nothing at module level. */
export class FakeEc2State {
  readonly instances = new Map<string, FakeInstance>();
  /** Instances past their terminated retention: gone from Describe, still what their ClientToken answers. */
  readonly purged = new Map<string, FakeInstance>();
  readonly volumes = new Map<string, FakeVolume>();
  readonly purgedVolumes = new Map<string, FakeVolume>();
  readonly snapshots = new Map<string, FakeSnapshot>();
  readonly images = new Map<string, FakeImage>();
  readonly subnets = new Map<string, FakeSubnet>();
  readonly securityGroups = new Map<string, { id: string; name: string; vpcId: string }>();
  readonly keyPairs = new Set<string>();
  readonly runTokens = new Map<string, TokenRecord>();
  readonly volumeTokens = new Map<string, TokenRecord>();
  readonly quota: { vms?: number; disks?: number } = {};

  constructor(
    readonly accountId: string,
    readonly region: string,
    readonly zones: readonly string[],
    readonly vpcId: string,
  ) {}

  /** Instances that count against the instance limit. */
  liveInstances(): FakeInstance[] {
    return [...this.instances.values()].filter(
      (i) => i.state === 'pending' || i.state === 'running' || i.state === 'shutting-down' || i.state === 'stopping',
    );
  }

  /** The instance holding a private address in a subnet, terminated ones having released theirs. */
  instanceWithIp(subnetId: string, ip: string): FakeInstance | undefined {
    return [...this.instances.values()].find(
      (i) => i.subnetId === subnetId && i.privateIp === ip && i.state !== 'terminated',
    );
  }

  /** The volumes attached (or attaching, or detaching) to an instance: its block device mapping. */
  volumesOf(instanceId: string): FakeVolume[] {
    return [...this.volumes.values()].filter(
      (v) => v.attachment?.instanceId === instanceId && v.attachment.state !== 'detached',
    );
  }

  /** Volumes that count against the volume limit: the ones CreateVolume made that still exist. */
  createdVolumes(): FakeVolume[] {
    return [...this.volumes.values()].filter((v) => !v.launchVolume && v.state !== 'deleted');
  }

  instanceOrPurged(id: string): FakeInstance | undefined {
    return this.instances.get(id) ?? this.purged.get(id);
  }
}

/** EC2-style ids: a prefix and 17 hex digits. */
export function ec2Id(prefix: string): string {
  return `${prefix}-${randomBytes(9).toString('hex').slice(0, 17)}`;
}

/** EC2 timestamps: ISO 8601 with milliseconds. */
export function isoNow(): string {
  return new Date().toISOString();
}
