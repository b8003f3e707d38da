import { bootSimulatedAgent, MemoryCredentialStore, type SimulatedAgent } from '@slipway/simulation';
import { GceMetadataServer } from '../src/metadata.js';

/**
 * The node agents of the fake's instances. Each boots from the driver package's own metadata reader pointed
 * at that instance's view of the fake metadata server, so a VM's agent runs only if the driver delivered its
 * settings as instance metadata.
 */
export class VmAgents {
  private readonly agents = new Map<string, Promise<SimulatedAgent | undefined>>();
  /** Why an agent could not boot, by instance id (no settings attribute, bad settings...). */
  readonly bootErrors = new Map<string, unknown>();
  /** What each VM's agent keeps on its disk (its key and certificate), so a rebooted agent needs no new token. */
  private readonly credentialStores = new Map<string, MemoryCredentialStore>();

  constructor(
    private readonly metadataUrl: (instanceId: string) => string,
    private readonly enabled: boolean,
  ) {}

  boot(instanceId: string): void {
    if (!this.enabled || this.agents.has(instanceId)) return;
    const booting = bootSimulatedAgent(new GceMetadataServer(this.metadataUrl(instanceId)), {
      credentials: this.credentialsOf(instanceId),
    }).catch((error: unknown) => {
      this.bootErrors.set(instanceId, error);
      return undefined;
    });
    this.agents.set(instanceId, booting);
  }

  /** The instance's agent, once booted (undefined when agents are off or the boot failed). */
  async get(instanceId: string): Promise<SimulatedAgent | undefined> {
    return this.agents.get(instanceId);
  }

  async stop(instanceId: string): Promise<void> {
    const agent = this.agents.get(instanceId);
    this.agents.delete(instanceId);
    await (await agent)?.stop();
  }

  /** A reset: the guest's agent dies and boots again, reading its settings anew. */
  async restart(instanceId: string): Promise<void> {
    if (!this.agents.has(instanceId)) return;
    await this.stop(instanceId);
    this.boot(instanceId);
  }

  async hang(instanceId: string): Promise<void> {
    (await this.agents.get(instanceId))?.hang();
  }

  private credentialsOf(vm: string): MemoryCredentialStore {
    let store = this.credentialStores.get(vm);
    if (!store) this.credentialStores.set(vm, (store = new MemoryCredentialStore()));
    return store;
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.agents.keys()].map((id) => this.stop(id)));
  }
}
