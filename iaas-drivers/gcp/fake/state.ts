import { createHash, randomInt, type KeyObject } from 'node:crypto';

export type InstanceStatus = 'PROVISIONING' | 'STAGING' | 'RUNNING' | 'STOPPING' | 'TERMINATED';

export interface FakeAttachedDisk {
  /** Name of a disk in the instance's zone. */
  disk: string;
  deviceName: string;
  boot: boolean;
  autoDelete: boolean;
  mode: 'READ_WRITE' | 'READ_ONLY';
  index: number;
}

/** A Compute Engine instance as the fake holds it. */
export interface FakeInstance {
  id: string;
  name: string;
  zone: string;
  status: InstanceStatus;
  machineType: string;
  labels: Record<string, string>;
  labelFingerprint: string;
  metadataItems: Array<{ key: string; value: string }>;
  metadataFingerprint: string;
  network: string;
  subnetwork?: string;
  networkIP: string;
  disks: FakeAttachedDisk[];
  tags: string[];
  scheduling: Record<string, unknown>;
  serviceAccounts: Array<{ email: string; scopes: string[] }>;
  creationTimestamp: string;
  lastStartTimestamp?: string;
  /** A delete operation is under way. */
  deleting: boolean;
}

export interface FakeDisk {
  id: string;
  name: string;
  zone: string;
  sizeGb: number;
  type: string;
  status: 'CREATING' | 'READY' | 'DELETING' | 'FAILED';
  labels: Record<string, string>;
  labelFingerprint: string;
  /** Names of the instances (same zone) it is attached to. */
  users: string[];
  /** An attachDisk operation is under way for this instance: a second attach is refused meanwhile. */
  attachingTo?: string;
  sourceImage?: string;
  creationTimestamp: string;
  lastAttachTimestamp?: string;
  lastDetachTimestamp?: string;
}

export interface FakeSnapshot {
  id: string;
  name: string;
  status: 'CREATING' | 'UPLOADING' | 'READY' | 'DELETING';
  sourceDisk: { zone: string; name: string; id: string };
  diskSizeGb: number;
  labels: Record<string, string>;
  labelFingerprint: string;
  creationTimestamp: string;
}

export interface FakeImage {
  id: string;
  project: string;
  name: string;
  status: 'PENDING' | 'READY' | 'DELETING' | 'FAILED';
  diskSizeGb: number;
  family?: string;
  labels: Record<string, string>;
  labelFingerprint: string;
  description?: string;
  sourceImage?: string;
  rawDiskSource?: string;
  creationTimestamp: string;
}

export interface FakeToken {
  value: string;
  email: string;
  scopes: string[];
  expiresAt: number;
}

export interface FakeMachineType {
  name: string;
  guestCpus: number;
  memoryMb: number;
  isSharedCpu: boolean;
}

/** A slice of the real catalogue: the E2, N2 and N1 types a small cluster would use. */
export const MACHINE_TYPES: readonly FakeMachineType[] = Object.freeze([
  { name: 'e2-micro', guestCpus: 2, memoryMb: 1024, isSharedCpu: true },
  { name: 'e2-small', guestCpus: 2, memoryMb: 2048, isSharedCpu: true },
  { name: 'e2-medium', guestCpus: 2, memoryMb: 4096, isSharedCpu: true },
  { name: 'e2-highcpu-2', guestCpus: 2, memoryMb: 2048, isSharedCpu: false },
  { name: 'e2-standard-2', guestCpus: 2, memoryMb: 8192, isSharedCpu: false },
  { name: 'e2-highmem-2', guestCpus: 2, memoryMb: 16384, isSharedCpu: false },
  { name: 'e2-highcpu-4', guestCpus: 4, memoryMb: 4096, isSharedCpu: false },
  { name: 'e2-standard-4', guestCpus: 4, memoryMb: 16384, isSharedCpu: false },
  { name: 'e2-highmem-4', guestCpus: 4, memoryMb: 32768, isSharedCpu: false },
  { name: 'e2-standard-8', guestCpus: 8, memoryMb: 32768, isSharedCpu: false },
  { name: 'e2-standard-16', guestCpus: 16, memoryMb: 65536, isSharedCpu: false },
  { name: 'e2-standard-32', guestCpus: 32, memoryMb: 131072, isSharedCpu: false },
  { name: 'n2-standard-2', guestCpus: 2, memoryMb: 8192, isSharedCpu: false },
  { name: 'n2-standard-4', guestCpus: 4, memoryMb: 16384, isSharedCpu: false },
  { name: 'n2-standard-8', guestCpus: 8, memoryMb: 32768, isSharedCpu: false },
  { name: 'n1-standard-1', guestCpus: 1, memoryMb: 3840, isSharedCpu: false },
  { name: 'n1-standard-2', guestCpus: 2, memoryMb: 7680, isSharedCpu: false },
  { name: 'n1-standard-4', guestCpus: 4, memoryMb: 15360, isSharedCpu: false },
]);

/** Smallest size per disk type, in GB, as GCE enforces it. */
export const DISK_TYPES: Readonly<Record<string, number>> = Object.freeze({
  'pd-standard': 10,
  'pd-balanced': 10,
  'pd-ssd': 10,
  'pd-extreme': 500,
});

/** The service account whose key the fake hands out; only its public half is used to check assertions. */
export interface FakeServiceAccount {
  email: string;
  keyId: string;
  publicKey: KeyObject;
  /** A disabled key's assertions are refused, as after `gcloud iam service-accounts keys disable`. */
  disabled: boolean;
}

/** Everything the fake cloud holds. One instance per startFake(); nothing at module level. */
export class FakeGceState {
  /** By `ZONE/NAME`. */
  readonly instances = new Map<string, FakeInstance>();
  readonly disks = new Map<string, FakeDisk>();
  /** By name. */
  readonly snapshots = new Map<string, FakeSnapshot>();
  /** By `PROJECT/NAME`: the fake's project and its public image project. */
  readonly images = new Map<string, FakeImage>();
  readonly tokens = new Map<string, FakeToken>();
  readonly quota: { vms?: number; disks?: number } = {};
  readonly projectNumber = String(randomInt(100_000_000_000, 999_999_999_999));

  constructor(
    readonly project: string,
    readonly imageProject: string,
    readonly zones: readonly string[],
    readonly networks: readonly string[],
    readonly serviceAccount: FakeServiceAccount,
  ) {}

  region(zone: string): string {
    return zone.replace(/-[a-z]$/, '');
  }

  instancesIn(zone: string): FakeInstance[] {
    return [...this.instances.values()].filter((i) => i.zone === zone);
  }

  /** The live instance holding an internal IP on a network, for GCE's IP_IN_USE_BY_ANOTHER_RESOURCE. */
  holderOfIp(network: string, ip: string): FakeInstance | undefined {
    return [...this.instances.values()].find((i) => !i.deleting && i.network === network && i.networkIP === ip);
  }

  /** Disks that count against the quota: persistent disks, not boot disks. */
  persistentDisks(): FakeDisk[] {
    const boot = new Set(
      [...this.instances.values()].flatMap((i) => i.disks.filter((d) => d.boot).map((d) => `${i.zone}/${d.disk}`)),
    );
    return [...this.disks.entries()].filter(([key]) => !boot.has(key)).map(([, disk]) => disk);
  }
}

/** A uint64 resource id, as GCE prints it. */
export function newId(): string {
  return (BigInt(randomInt(1, 2 ** 47)) * 65536n + BigInt(randomInt(0, 65536))).toString();
}

/** RFC 3339 with offset, as GCE's creationTimestamp. */
export function timestamp(at = Date.now()): string {
  return new Date(at).toISOString().replace('Z', '-00:00');
}

/** GCE fingerprints are 8 bytes of a hash of the content, base64. */
export function fingerprint(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest().subarray(0, 8).toString('base64');
}
