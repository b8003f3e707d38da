import { bootSimulatedAgent, MemoryCredentialStore, type SimulatedAgent } from '@slipway/simulation';
import { Ec2InstanceMetadataService } from '../src/metadata.js';

/**
 * The node agents of the fake's instances. Each boots from the driver package's own IMDSv2 reader pointed at
 * that instance's view of the fake metadata service, so an instance's agent runs only if the driver delivered
 * its settings as UserData.
 */
export class VmAgents {
  private readonly agents = new Map<string, Promise<SimulatedAgent | undefined>>();
  /** Why an agent could not boot, by instance id (bad user data, for instance). */
  readonly bootErrors = new Map<string, unknown>();
  /** What each VM's agent keeps on its disk (its key and certificate), so a rebooted agent needs no new token. */
  private readonly credentialStores = new Map<string, MemoryCredentialStore>();

  constructor(
    private readonly metadataUrl: (instanceId: string) => string,
    private readonly enabled: boolean,
  ) {}

  boot(instanceId: string): void {
    if (!this.enabled || this.agents.has(instanceId)) return;
    const metadata = new Ec2InstanceMetadataService({ baseUrl: this.metadataUrl(instanceId) });
    const booting = bootSimulatedAgent(metadata, { credentials: this.credentialsOf(instanceId) }).catch(
      (error: unknown) => {
        this.bootErrors.set(instanceId, error);
        return undefined;
      },
    );
    this.agents.set(instanceId, booting);
  }

  async get(instanceId: string): Promise<SimulatedAgent | undefined> {
    return this.agents.get(instanceId);
  }

  async stop(instanceId: string): Promise<void> {
    const agent = this.agents.get(instanceId);
    this.agents.delete(instanceId);
    await (await agent)?.stop();
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
