import { decodeAgentSettings, type AgentSettings, type DiskLocation, type MetadataSource } from '@slipway/contracts';
import type { Inventory } from './inventory.js';
import { sandboxError } from './errors.js';

/** The agent side: reads a VM's user data back from the cloud's inventory, as a metadata service serves it. */
export class SandboxMetadataSource implements MetadataSource {
  readonly kind = 'sandbox';

  constructor(
    private readonly inventory: Inventory,
    private readonly vmId: string,
  ) {}

  async readSettings(): Promise<AgentSettings> {
    const vm = this.inventory.data.vms[this.vmId];
    if (!vm) throw sandboxError('NotFound', `no VM ${this.vmId} to read user data for`);
    return decodeAgentSettings(await this.inventory.readUserData(this.vmId));
  }

  async instanceId(): Promise<string> {
    return this.vmId;
  }

  /** The disk's directory while it is attached to this VM, as a real VM sees a device only while attached. */
  async locateDisk(diskId: string): Promise<DiskLocation | undefined> {
    if (this.inventory.data.disks[diskId]?.attachedTo !== this.vmId) return undefined;
    // Disks created by a sandbox before disks had directories get theirs on first mount.
    return { kind: 'directory', path: await this.inventory.createDiskDir(diskId) };
  }
}
