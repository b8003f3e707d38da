import { randomUUID } from 'node:crypto';
import {
  SlipwayError,
  type AgentSettings,
  type CallOptions,
  type CreateVmInput,
  type IaasDriver,
  type PluginModule,
} from '@slipway/contracts';
import { AgentChannelRecorder } from '@slipway/simulation';
import { createTestHost, type TestHost } from '../test-host.js';
import type { StartedFake } from '@slipway/simulation';

/** Cloud-specific extras the suite passes through when the driver's cloud needs them. */
export interface ConformanceCloudProperties {
  stemcell?: Record<string, unknown>;
  vm?: Record<string, unknown>;
  disk?: Record<string, unknown>;
}

/** What the tests share: the fake, the driver created against it, the agent-channel recorder. */
export class IaasConformanceContext {
  /** Tags every resource the suite creates, so `inventory` can be checked and leftovers found. */
  readonly runId = randomUUID().slice(0, 8);
  private started:
    | { fake: StartedFake; host: TestHost; driver: IaasDriver; recorder: AgentChannelRecorder }
    | undefined;
  private setupError: unknown;
  private partial: { fake?: StartedFake; host?: TestHost; driver?: IaasDriver; recorder?: AgentChannelRecorder } = {};
  private stemcell: Promise<string> | undefined;
  private readonly created = { vms: new Set<string>(), disks: new Set<string>(), snapshots: new Set<string>() };
  private ipCounter = 0;

  constructor(
    readonly plugin: PluginModule<'iaas', any>,
    private readonly startFake: () => Promise<StartedFake>,
    private readonly cloudProperties: ConformanceCloudProperties = {},
  ) {}

  get capabilities(): readonly string[] {
    return this.plugin.capabilities ?? [];
  }

  has(capability: string): boolean {
    return this.capabilities.includes(capability);
  }

  /** Starts the fake, the test host, the recorder and the driver. Failures surface in the tests that need them. */
  async setup(): Promise<void> {
    try {
      const fake = (this.partial.fake = await this.startFake());
      const host = (this.partial.host = await createTestHost({
        credentials: fake.credentials,
        instanceName: 'conformance',
      }));
      const recorder = (this.partial.recorder = await AgentChannelRecorder.start());
      const driver = (this.partial.driver = await this.plugin.create(structuredClone(fake.config), host));
      this.started = { fake, host, driver, recorder };
    } catch (error) {
      this.setupError = error;
    }
  }

  async teardown(): Promise<void> {
    const { fake, host, driver, recorder } = this.partial;
    const problems: unknown[] = [];
    const attempt = async (step: () => Promise<unknown> | undefined): Promise<void> => {
      try {
        await step();
      } catch (error) {
        problems.push(error);
      }
    };
    if (this.stemcell && driver) {
      await attempt(async () => driver.deleteStemcell({ stemcellId: await this.stemcell! }));
    }
    await attempt(() => driver?.destroy());
    await attempt(() => fake?.stop());
    await attempt(() => recorder?.stop());
    await attempt(() => host?.cleanup());
    if (problems.length > 0)
      throw new SlipwayError('Internal', `conformance teardown failed: ${problems.map(describe).join('; ')}`, {
        cause: problems[0],
      });
  }

  /** The driver and its fake; throws what went wrong in setup, so every test that needs them says it. */
  ready(): { fake: StartedFake; host: TestHost; driver: IaasDriver; recorder: AgentChannelRecorder } {
    if (this.started) return this.started;
    throw new SlipwayError('Internal', `the conformance suite could not start: ${describe(this.setupError)}`, {
      cause: this.setupError,
    });
  }

  /** The fake's config, for the schema test (setup may have failed after startFake). */
  fakeConfig(): unknown {
    if (this.partial.fake) return this.partial.fake.config;
    return this.ready().fake.config;
  }

  /**
   * What a stemcell needs on this cloud besides name and version (an image id, a source image): clouds that
   * register images by reference cannot create one from nothing, and neither can the stemcell tests.
   */
  get stemcellCloudProperties(): Record<string, unknown> | undefined {
    return this.cloudProperties.stemcell;
  }

  /** One stemcell shared by the VM tests, deleted after the suite. */
  stemcellId(): Promise<string> {
    const { driver } = this.ready();
    this.stemcell ??= driver
      .createStemcell(
        { name: 'slipway-conformance', version: '1', cloudProperties: this.cloudProperties.stemcell },
        { requestId: `conformance-stemcell-${this.runId}` },
      )
      .then(
        (created) => created.stemcellId,
        (error: unknown) => {
          this.stemcell = undefined;
          throw error;
        },
      );
    return this.stemcell;
  }

  /** Agent settings pointing at the recorder, for a fresh agent id. */
  async agentSettings(agentId = `agent-${randomUUID()}`): Promise<AgentSettings> {
    const { recorder } = this.ready();
    this.ipCounter += 1;
    const ip = `10.200.${Math.floor(this.ipCounter / 250)}.${(this.ipCounter % 250) + 2}`;
    return recorder.settingsFor(agentId, { network: { ip }, clusterId: `conformance-${this.runId}` });
  }

  /** The createVm input for an agent, tagged with this run's id. */
  async vmInput(settings?: AgentSettings): Promise<CreateVmInput> {
    const env = settings ?? (await this.agentSettings());
    return {
      agentId: env.agentId,
      stemcellId: await this.stemcellId(),
      resources: { cpu: 1, memoryMb: 512, ephemeralDiskMb: 2048 },
      network: env.network,
      env,
      metadata: { 'slipway.conformance': this.runId },
      ...(this.cloudProperties.vm ? { cloudProperties: this.cloudProperties.vm } : {}),
    };
  }

  /** Creates a VM that the test's cleanup deletes. */
  async createVm(options: CallOptions = {}, input?: CreateVmInput): Promise<{ vmId: string; input: CreateVmInput }> {
    const vmInput = input ?? (await this.vmInput());
    const { vmId } = await this.ready().driver.createVm(vmInput, { requestId: randomUUID(), ...options });
    this.trackVm(vmId);
    return { vmId, input: vmInput };
  }

  async createDisk(options: { vmId?: string; sizeMb?: number; requestId?: string } = {}): Promise<string> {
    const { diskId } = await this.ready().driver.createDisk(
      {
        sizeMb: options.sizeMb ?? 1024,
        ...(options.vmId ? { vmId: options.vmId } : {}),
        metadata: { 'slipway.conformance': this.runId },
        ...(this.cloudProperties.disk ? { cloudProperties: this.cloudProperties.disk } : {}),
      },
      { requestId: options.requestId ?? randomUUID() },
    );
    this.created.disks.add(diskId);
    return diskId;
  }

  trackVm(vmId: string): void {
    this.created.vms.add(vmId);
  }

  trackSnapshot(snapshotId: string): void {
    this.created.snapshots.add(snapshotId);
  }

  /**
   * Deletes what the test created (snapshots, VMs, then their now detached disks), after clearing faults.
   * Throws when a delete fails: a test that leaves resources behind fails.
   */
  async cleanupTest(): Promise<void> {
    if (!this.started) return;
    const { fake, driver } = this.started;
    fake.faults.reset();
    const problems: string[] = [];
    const run = async (what: string, ids: Set<string>, remove: (id: string) => Promise<void>): Promise<void> => {
      await Promise.all(
        [...ids].map(async (id) => {
          try {
            await remove(id);
          } catch (error) {
            problems.push(`${what} ${id}: ${describe(error)}`);
          }
        }),
      );
      ids.clear();
    };
    await run('deleteSnapshot', this.created.snapshots, (snapshotId) => driver.deleteSnapshot!({ snapshotId }));
    await run('deleteVm', this.created.vms, (vmId) => driver.deleteVm({ vmId }));
    await run('deleteDisk', this.created.disks, (diskId) => driver.deleteDisk({ diskId }));
    if (problems.length > 0)
      throw new SlipwayError('Internal', `cleanup after the test failed: ${problems.join('; ')}`);
  }
}

export function describe(error: unknown): string {
  if (SlipwayError.is(error)) return `${error.code}: ${error.message}`;
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
