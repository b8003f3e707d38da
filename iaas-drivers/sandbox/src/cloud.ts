import { bootSimulatedAgent, FileCredentialStore, type SimulatedAgent } from '@slipway/simulation';
import type { Logger } from '@slipway/contracts';
import { Inventory } from './inventory.js';
import { SandboxMetadataSource } from './metadata.js';

export type FaultCode = 'Retryable' | 'RateLimited' | 'CloudError' | 'QuotaExceeded' | 'VmCreationFailed';

/** Knobs a test or an operator turns to make the sandbox misbehave. */
export interface FaultState {
  queued: Map<string, Array<{ code: FaultCode; message?: string }>>;
  latencyMs: number;
  rates: { throttle: number; serverError: number };
  quota: { vms?: number; disks?: number };
}

/**
 * The simulated cloud itself: its inventory, the agents of its running VMs and its fault knobs. A driver
 * instance is a client of it. While a process holds it open, a second driver on the same state file (a
 * restarted control plane in tests, the conformance fake) shares it, as two clients share one cloud.
 */
export class SandboxCloud {
  readonly inventory: Inventory;
  readonly faults: FaultState = { queued: new Map(), latencyMs: 0, rates: { throttle: 0, serverError: 0 }, quota: {} };
  private readonly agents = new Map<string, Promise<SimulatedAgent | undefined>>();
  private users = 0;

  private constructor(
    readonly file: string,
    private readonly logger: Logger,
  ) {
    this.inventory = new Inventory(file);
  }

  /** Opens (or joins) the cloud behind a state file; VMs that were running boot their agents again. */
  static open(file: string, logger: Logger, bootDelayMs: number): SandboxCloud {
    let cloud = OPEN_CLOUDS.get(file);
    if (!cloud) {
      cloud = new SandboxCloud(file, logger);
      OPEN_CLOUDS.set(file, cloud);
      for (const vm of Object.values(cloud.inventory.data.vms)) {
        if (vm.state === 'running') cloud.boot(vm.id, bootDelayMs);
      }
    }
    cloud.users++;
    return cloud;
  }

  /** Starts the VM's node agent from its user data, after the boot delay. */
  boot(vmId: string, delayMs: number): void {
    let booting: Promise<SimulatedAgent | undefined> | undefined;
    booting = (async () => {
      await new Promise((r) => setTimeout(r, delayMs));
      // Deleted or killed during its boot delay: nothing to start.
      if (!this.inventory.data.vms[vmId] || this.agents.get(vmId) !== booting) return undefined;
      try {
        return await bootSimulatedAgent(new SandboxMetadataSource(this.inventory, vmId), {
          logger: this.logger.child({ vm: vmId }),
          storeDir: this.inventory.storeDirOf(vmId),
          credentials: new FileCredentialStore(this.inventory.agentIdentityDirOf(vmId)),
        });
      } catch (e) {
        this.logger.warn('agent failed to boot', { vm: vmId, error: (e as Error).message });
        return undefined;
      }
    })();
    this.agents.set(vmId, booting);
  }

  async stopAgent(vmId: string): Promise<void> {
    const agent = this.agents.get(vmId);
    this.agents.delete(vmId);
    await (await agent)?.stop();
  }

  async hangAgent(vmId: string): Promise<void> {
    (await this.agents.get(vmId))?.hang();
  }

  /** Called when a client is done; the last one stops the agents (the process is going away). */
  async release(): Promise<void> {
    if (--this.users > 0) return;
    OPEN_CLOUDS.delete(this.file);
    await Promise.all([...this.agents.keys()].map((id) => this.stopAgent(id)));
    await this.inventory.persist();
  }
}

/**
 * Clouds open in this process, by state file. Module-level on purpose: it stands for the world outside the
 * control plane, which a restarted driver in the same process must find again.
 */
const OPEN_CLOUDS = new Map<string, SandboxCloud>();
