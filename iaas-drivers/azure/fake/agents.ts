import { bootSimulatedAgent, MemoryCredentialStore, type SimulatedAgent } from '@slipway/simulation';
import { AzureImdsMetadata } from '../src/metadata.js';

/**
 * The node agents of the fake's VMs. Each boots from the driver package's own IMDS reader pointed at that VM's
 * view of the fake IMDS, so a VM's agent runs only if the driver delivered its settings as userData.
 */
export class VmAgents {
  private readonly agents = new Map<string, Promise<SimulatedAgent | undefined>>();
  /** Why an agent could not boot, by VM name (bad user data, for instance). */
  readonly bootErrors = new Map<string, unknown>();
  /** What each VM's agent keeps on its disk (its key and certificate), so a rebooted agent needs no new token. */
  private readonly credentialStores = new Map<string, MemoryCredentialStore>();

  constructor(
    private readonly imdsUrl: (vmName: string) => string,
    private readonly enabled: boolean,
  ) {}

  boot(vmName: string): void {
    const key = vmName.toLowerCase();
    if (!this.enabled || this.agents.has(key)) return;
    // No customData fallback: the files a real VM has are not this machine's.
    const metadata = new AzureImdsMetadata({ baseUrl: this.imdsUrl(vmName), customDataPaths: [] });
    const booting = bootSimulatedAgent(metadata, { credentials: this.credentialsOf(key) }).catch((error: unknown) => {
      this.bootErrors.set(key, error);
      return undefined;
    });
    this.agents.set(key, booting);
  }

  /** The VM's agent, once booted (undefined when agents are off or the boot failed). */
  async get(vmName: string): Promise<SimulatedAgent | undefined> {
    return this.agents.get(vmName.toLowerCase());
  }

  async stop(vmName: string): Promise<void> {
    const key = vmName.toLowerCase();
    const agent = this.agents.get(key);
    this.agents.delete(key);
    await (await agent)?.stop();
  }

  async restart(vmName: string): Promise<void> {
    if (!this.agents.has(vmName.toLowerCase())) return;
    await this.stop(vmName);
    this.boot(vmName);
  }

  async hang(vmName: string): Promise<void> {
    (await this.agents.get(vmName.toLowerCase()))?.hang();
  }

  private credentialsOf(vm: string): MemoryCredentialStore {
    let store = this.credentialStores.get(vm);
    if (!store) this.credentialStores.set(vm, (store = new MemoryCredentialStore()));
    return store;
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.agents.keys()].map((key) => this.stop(key)));
  }
}
