/**
 * The Compute Engine v1 resources the driver reads, with only the fields it uses. int64 fields (`id`,
 * `sizeGb`) arrive as JSON strings, as in every Google REST API.
 */

export const OPERATION_STATUSES = ['PENDING', 'RUNNING', 'DONE'] as const;
export type OperationStatus = (typeof OPERATION_STATUSES)[number];

export interface Operation {
  kind?: string;
  id: string;
  name: string;
  /** URL of the zone for zonal operations; absent for global ones. */
  zone?: string;
  region?: string;
  operationType?: string;
  targetLink?: string;
  targetId?: string;
  status: OperationStatus;
  progress?: number;
  insertTime?: string;
  startTime?: string;
  endTime?: string;
  error?: { errors?: Array<{ code: string; message?: string; location?: string }> };
  httpErrorStatusCode?: number;
  httpErrorMessage?: string;
  selfLink?: string;
}

export const INSTANCE_STATUSES = [
  'PROVISIONING',
  'STAGING',
  'RUNNING',
  'STOPPING',
  'STOPPED',
  'SUSPENDING',
  'SUSPENDED',
  'REPAIRING',
  'TERMINATED',
] as const;
export type InstanceStatus = (typeof INSTANCE_STATUSES)[number];

export interface AttachedDisk {
  source?: string;
  deviceName?: string;
  boot?: boolean;
  autoDelete?: boolean;
  mode?: 'READ_WRITE' | 'READ_ONLY';
  index?: number;
}

export interface Instance {
  id: string;
  name: string;
  zone: string;
  status: InstanceStatus;
  machineType?: string;
  labels?: Record<string, string>;
  labelFingerprint?: string;
  disks?: AttachedDisk[];
  networkInterfaces?: Array<{ network?: string; subnetwork?: string; networkIP?: string; name?: string }>;
  metadata?: { fingerprint?: string; items?: Array<{ key: string; value?: string }> };
  selfLink?: string;
}

export const DISK_STATUSES = ['CREATING', 'RESTORING', 'FAILED', 'READY', 'DELETING'] as const;
export type DiskStatus = (typeof DISK_STATUSES)[number];

export interface Disk {
  id: string;
  name: string;
  zone: string;
  sizeGb: string;
  status: DiskStatus;
  type?: string;
  users?: string[];
  labels?: Record<string, string>;
  labelFingerprint?: string;
  selfLink?: string;
}

export interface Snapshot {
  id: string;
  name: string;
  status: 'CREATING' | 'DELETING' | 'FAILED' | 'READY' | 'UPLOADING';
  sourceDisk?: string;
  labels?: Record<string, string>;
}

export interface Image {
  id: string;
  name: string;
  status: 'DELETING' | 'FAILED' | 'PENDING' | 'READY';
  diskSizeGb?: string;
  family?: string;
  labels?: Record<string, string>;
  selfLink?: string;
}

export interface MachineType {
  name: string;
  guestCpus: number;
  memoryMb: number;
  isSharedCpu?: boolean;
  deprecated?: { state?: string };
}

export interface Zone {
  name: string;
  status: 'UP' | 'DOWN';
  region?: string;
}
