import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';

/** Where a local VM is in its life. `stopped`: powered off by Slipway's stop, booted again on its start. */
export const VM_STATES = ['booting', 'running', 'stopped', 'terminated'] as const;
export type VmState = (typeof VM_STATES)[number];

export interface VmRecord {
  id: string;
  agentId: string;
  stemcellId: string;
  ip: string;
  state: VmState;
  metadata: Record<string, string>;
  /** The VM's init (its process tree's root): pid and kernel start time, so a reused pid is never taken for it. */
  initPid?: number;
  initStartTime?: number;
  /** Set when the VM has a network namespace of its own (network_namespaces); absent: the host's stack. */
  namespace?: string;
  createdAt: string;
}

export interface DiskRecord {
  id: string;
  sizeMb: number;
  attachedTo: string | null;
  metadata: Record<string, string>;
}

export interface InventoryData {
  stemcells: Record<string, { name: string; version: string }>;
  vms: Record<string, VmRecord>;
  disks: Record<string, DiskRecord>;
  snapshots: Record<string, { diskId: string; metadata: Record<string, string> }>;
  /** requestId -> resource id: what makes a repeated create return the first resource, across restarts. */
  requests: Record<string, string>;
}

/**
 * The driver's state file: what exists on this machine's "cloud". It outlives the control plane, so a
 * restarted Slipway finds its VMs (still running after a crash) and disks. Written atomically.
 */
export class Inventory {
  readonly data: InventoryData;

  constructor(private readonly file: string) {
    this.data = existsSync(file)
      ? {
          stemcells: {},
          vms: {},
          disks: {},
          snapshots: {},
          requests: {},
          ...(JSON.parse(readFileSync(file, 'utf8')) as Partial<InventoryData>),
        }
      : { stemcells: {}, vms: {}, disks: {}, snapshots: {}, requests: {} };
  }

  save(): void {
    const temp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(temp, JSON.stringify(this.data, null, 1), { mode: 0o600 });
    renameSync(temp, this.file);
  }
}

/** Reads a state file without holding it: what the fake uses to find a VM's processes. */
export function readInventory(file: string): InventoryData {
  return new Inventory(file).data;
}
