import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';

export interface SandboxVm {
  id: string;
  agentId: string;
  stemcellId: string;
  metadata: Record<string, string>;
  zone: string;
  ip: string;
  state: 'running' | 'hung';
  createdAt: string;
}

export interface SandboxDisk {
  id: string;
  sizeMb: number;
  zone: string;
  attachedTo: string | null;
  metadata: Record<string, string>;
}

export interface InventoryData {
  seq: number;
  stemcells: Record<string, { name: string; version: string }>;
  vms: Record<string, SandboxVm>;
  disks: Record<string, SandboxDisk>;
  snapshots: Record<string, { diskId: string; metadata: Record<string, string> }>;
  /** requestId → resource id: what makes creates idempotent across restarts. */
  requests: Record<string, string>;
}

/**
 * The simulated cloud's state, in its own file so it outlives the control plane like a real cloud. Each VM's
 * user data (certificates, a few KiB) lives in a file of its own, written once at creation: the inventory
 * is rewritten on every change, and carrying user data in it made each rewrite grow with the fleet.
 * Every change is durable before the call that made it returns; concurrent changes share one write
 * (one write in flight, at most one queued), so 100 parallel creates cost a handful of fsyncs.
 */
export class Inventory {
  readonly data: InventoryData;
  private writing: Promise<void> | undefined;
  private queued: Promise<void> | undefined;
  writes = 0;

  private readonly userDataDir: string;
  private readonly disksDir: string;
  private readonly vmsDir: string;

  constructor(private readonly file: string) {
    this.data = existsSync(file)
      ? (JSON.parse(readFileSync(file, 'utf8')) as InventoryData)
      : { seq: 0, stemcells: {}, vms: {}, disks: {}, snapshots: {}, requests: {} };
    this.userDataDir = `${file}.userdata`;
    this.disksDir = `${file}.disks`;
    this.vmsDir = `${file}.vms`;
    mkdirSync(this.userDataDir, { recursive: true, mode: 0o700 });
  }

  /** A disk's content: a directory that lives as long as the disk, whichever VM it is attached to. */
  diskDir(diskId: string): string {
    return join(this.disksDir, diskId);
  }

  /** A VM's own files (its ephemeral disk): the store directory its agent links the persistent disk at. */
  storeDirOf(vmId: string): string {
    return join(this.vmsDir, vmId, 'store');
  }

  /** Where a VM's agent keeps the key it made and its client certificate (on the VM's own disk). */
  agentIdentityDirOf(vmId: string): string {
    return join(this.vmsDir, vmId, 'agent-identity');
  }

  async createDiskDir(diskId: string): Promise<string> {
    const dir = this.diskDir(diskId);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    return dir;
  }

  async deleteDiskDir(diskId: string): Promise<void> {
    await rm(this.diskDir(diskId), { recursive: true, force: true });
  }

  /** The VM's files go with it; the link to its disk goes, the disk's content stays. */
  async deleteVmDir(vmId: string): Promise<void> {
    await rm(join(this.vmsDir, vmId), { recursive: true, force: true });
  }

  /** Stores a VM's user data durably; call before the VM enters the inventory. */
  async writeUserData(vmId: string, userData: string): Promise<void> {
    const handle = await open(join(this.userDataDir, vmId), 'w', 0o600);
    try {
      await handle.writeFile(userData);
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  readUserData(vmId: string): Promise<string> {
    return readFile(join(this.userDataDir, vmId), 'utf8');
  }

  async deleteUserData(vmId: string): Promise<void> {
    await rm(join(this.userDataDir, vmId), { force: true });
  }

  nextId(prefix: string): string {
    this.data.seq += 1;
    return `${prefix}-${this.data.seq.toString(36).padStart(6, '0')}`;
  }

  /** Resolves once a write that includes every change made so far is on disk. */
  persist(): Promise<void> {
    if (!this.writing) {
      this.writing = this.write().finally(() => {
        this.writing = undefined;
      });
      return this.writing;
    }
    // A write is in flight with older state: queue exactly one more after it.
    this.queued ??= this.writing.then(() => {
      this.queued = undefined;
      return this.persist();
    });
    return this.queued;
  }

  private async write(): Promise<void> {
    const tmp = `${this.file}.tmp`;
    const handle = await open(tmp, 'w', 0o600);
    try {
      await handle.writeFile(JSON.stringify(this.data));
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, this.file);
    this.writes++;
  }
}
