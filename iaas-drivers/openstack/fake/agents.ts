import { bootSimulatedAgent, MemoryCredentialStore, type SimulatedAgent } from '@slipway/simulation';
import { OpenStackMetadataService } from '../src/metadata.js';

/**
 * The node agents of the fake's servers. Each boots from the driver package's own metadata reader pointed at
 * that server's view of the fake metadata service, so a VM's agent runs only if the driver delivered its
 * settings as Nova user_data.
 */
export class VmAgents {
  private readonly agents = new Map<string, Promise<SimulatedAgent | undefined>>();
  /** Why an agent could not boot, by server id (bad user data, for instance). */
  readonly bootErrors = new Map<string, unknown>();
  /** What each VM's agent keeps on its disk (its key and certificate), so a rebooted agent needs no new token. */
  private readonly credentialStores = new Map<string, MemoryCredentialStore>();

  constructor(
    private readonly metadataUrl: (serverId: string) => string,
    private readonly enabled: boolean,
  ) {}

  boot(serverId: string): void {
    if (!this.enabled || this.agents.has(serverId)) return;
    const booting = bootSimulatedAgent(new OpenStackMetadataService(this.metadataUrl(serverId)), {
      credentials: this.credentialsOf(serverId),
    }).catch((error: unknown) => {
      this.bootErrors.set(serverId, error);
      return undefined;
    });
    this.agents.set(serverId, booting);
  }

  /** The server's agent, once booted (undefined when agents are off or the boot failed). */
  async get(serverId: string): Promise<SimulatedAgent | undefined> {
    return this.agents.get(serverId);
  }

  async stop(serverId: string): Promise<void> {
    const agent = this.agents.get(serverId);
    this.agents.delete(serverId);
    await (await agent)?.stop();
  }

  async restart(serverId: string): Promise<void> {
    if (!this.agents.has(serverId)) return;
    await this.stop(serverId);
    this.boot(serverId);
  }

  async hang(serverId: string): Promise<void> {
    (await this.agents.get(serverId))?.hang();
  }

  private credentialsOf(vm: string): MemoryCredentialStore {
    let store = this.credentialStores.get(vm);
    if (!store) this.credentialStores.set(vm, (store = new MemoryCredentialStore()));
    return store;
  }

  async stopAll(): Promise<void> {
    const all = [...this.agents.keys()];
    await Promise.all(all.map((id) => this.stop(id)));
  }
}
