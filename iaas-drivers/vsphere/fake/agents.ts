import { bootSimulatedAgent, MemoryCredentialStore, type SimulatedAgent } from '@slipway/simulation';
import { VsphereGuestInfo, httpGuestInfoReader } from '../src/metadata.js';
import type { FetchTls } from '../src/tls.js';

/**
 * The node agents of the fake's VMs. Each boots from the driver package's own guestinfo reader pointed at
 * that VM's guestinfo endpoint on the fake, so an agent runs only if the driver put its settings into the
 * VM's extraConfig (`guestinfo.userdata`) through ReconfigVM_Task.
 */
export class VmAgents {
  private readonly agents = new Map<string, Promise<SimulatedAgent | undefined>>();
  /** Why an agent could not boot, by VM reference value. */
  readonly bootErrors = new Map<string, unknown>();
  /** What each VM's agent keeps on its disk (its key and certificate), so a rebooted agent needs no new token. */
  private readonly credentialStores = new Map<string, MemoryCredentialStore>();

  constructor(
    private readonly guestinfoUrl: (vm: string) => string,
    private readonly tls: FetchTls,
    private readonly enabled: boolean,
  ) {}

  boot(vm: string): void {
    if (!this.enabled || this.agents.has(vm)) return;
    this.bootErrors.delete(vm);
    const source = new VsphereGuestInfo(httpGuestInfoReader({ url: this.guestinfoUrl(vm), tls: this.tls }));
    const booting = bootSimulatedAgent(source, { credentials: this.credentialsOf(vm) }).catch((error: unknown) => {
      this.bootErrors.set(vm, error);
      return undefined;
    });
    this.agents.set(vm, booting);
  }

  async get(vm: string): Promise<SimulatedAgent | undefined> {
    return this.agents.get(vm);
  }

  async stop(vm: string): Promise<void> {
    const agent = this.agents.get(vm);
    this.agents.delete(vm);
    await (await agent)?.stop();
  }

  /** A reset: the guest reboots, its agent starts again and reads guestinfo again. */
  async restart(vm: string): Promise<void> {
    if (!this.agents.has(vm)) return;
    await this.stop(vm);
    this.boot(vm);
  }

  async hang(vm: string): Promise<void> {
    (await this.agents.get(vm))?.hang();
  }

  private credentialsOf(vm: string): MemoryCredentialStore {
    let store = this.credentialStores.get(vm);
    if (!store) this.credentialStores.set(vm, (store = new MemoryCredentialStore()));
    return store;
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.agents.keys()].map((vm) => this.stop(vm)));
  }
}
