import { randomUUID } from 'node:crypto';
import {
  SlipwayError,
  networkCapabilities,
  type NetworkCapability,
  type NetworkDriver,
  type PluginModule,
} from '@slipway/contracts';
import type { RetryStats } from '../iaas/engine-retries.js';
import { createTestHost, type TestHost } from '../test-host.js';
import type { StartedNetworkFake } from '@slipway/simulation';
import { withNetworkRetries } from './retries.js';

/** The IaaS target name the suite prepares clusters on. */
export const CONFORMANCE_IAAS = 'conformance';
/** Usable node addresses of one cluster's network (what `config({ capacity })` asks for). */
export const CONFORMANCE_CAPACITY = 6;

export interface NetworkSuiteInputs<C> {
  plugin: PluginModule<'network', C>;
  startFake?: () => Promise<StartedNetworkFake<C>>;
  config?: (options: { iaas: string; capacity: number }) => C | Promise<C>;
  /** Fault rates for a faults run: set on the fake, kept on across tests, the driver wrapped in the engine's retries. */
  faults?: { throttle: number; serverError: number };
}

/**
 * What the tests share: the fake (when the driver has one), the driver, the capabilities this instance offers,
 * and the clusters a test prepared (torn down after it, so one failing test leaves nothing to the next).
 */
export class NetworkConformanceContext<C = unknown> {
  readonly stats: RetryStats = { retries: 0, byCode: {} };
  private started?: {
    host: TestHost;
    driver: NetworkDriver;
    raw: NetworkDriver;
    fake?: StartedNetworkFake<C>;
    capabilities: NetworkCapability[];
  };
  private setupError: unknown;
  private partial: { host?: TestHost; driver?: NetworkDriver; fake?: StartedNetworkFake<C> } = {};
  private readonly clusters = new Set<string>();

  constructor(readonly inputs: NetworkSuiteInputs<C>) {}

  async setup(): Promise<void> {
    try {
      const fake = (this.partial.fake = this.inputs.startFake ? await this.inputs.startFake() : undefined);
      const host = (this.partial.host = await createTestHost({
        credentials: fake?.credentials,
        instanceName: 'conformance',
      }));
      const configOf = fake ? fake.config.bind(fake) : this.inputs.config;
      if (!configOf) {
        throw new SlipwayError(
          'InvalidInput',
          'runNetworkConformance needs startFake (a driver with a remote API) or config (a driver of local resources)',
        );
      }
      const config = await configOf({ iaas: CONFORMANCE_IAAS, capacity: CONFORMANCE_CAPACITY });
      const raw = (this.partial.driver = await this.inputs.plugin.create(config, host));
      const capabilities = networkCapabilities(this.inputs.plugin, raw);
      if (fake && this.inputs.faults) this.keepFaultsOn(fake);
      const driver = this.inputs.faults ? withNetworkRetries(raw, this.stats) : raw;
      this.started = { host, driver, raw, fake, capabilities };
    } catch (error) {
      this.setupError = error;
    }
  }

  async teardown(): Promise<void> {
    const { host, driver, fake } = this.partial;
    const problems: unknown[] = [];
    for (const step of [() => driver?.destroy(), () => fake?.stop(), () => host?.cleanup()]) {
      try {
        await step();
      } catch (error) {
        problems.push(error);
      }
    }
    if (problems.length > 0) {
      throw new SlipwayError('Internal', `network conformance teardown failed: ${problems.map(String).join('; ')}`, {
        cause: problems[0],
      });
    }
  }

  /** The driver (wrapped in the engine's retries in a faults run) and the rest; throws what went wrong in setup. */
  ready(): { driver: NetworkDriver; fake?: StartedNetworkFake<C>; host: TestHost; capabilities: NetworkCapability[] } {
    if (this.started) return this.started;
    throw new SlipwayError('Internal', `the network conformance suite could not start: ${String(this.setupError)}`, {
      cause: this.setupError,
    });
  }

  /** The fake; a test that needs it is registered only when there is one. */
  fake(): StartedNetworkFake<C> {
    const fake = this.ready().fake;
    if (!fake) throw new SlipwayError('Internal', "this test needs the driver's fake");
    return fake;
  }

  has(capability: NetworkCapability): boolean {
    return this.ready().capabilities.includes(capability);
  }

  get capabilitiesKnown(): boolean {
    return this.started !== undefined;
  }

  /** A fresh cluster id (a uuid, as the engine uses), torn down after the test. */
  newCluster(): string {
    const id = randomUUID();
    this.clusters.add(id);
    return id;
  }

  /** Prepares a new cluster and returns its id and network. */
  async preparedCluster(
    name = 'conformance',
  ): Promise<{ id: string; network: Awaited<ReturnType<NetworkDriver['prepareCluster']>> }> {
    const id = this.newCluster();
    const network = await this.ready().driver.prepareCluster({
      clusterId: id,
      clusterName: `${name}-${id.slice(0, 8)}`,
      iaas: CONFORMANCE_IAAS,
    });
    return { id, network };
  }

  /** Tears down what the test prepared, on a clean wire (faults off except the run's rates). */
  async cleanupTest(): Promise<void> {
    if (!this.started) return;
    const { driver, fake } = this.started;
    fake?.faults.reset();
    for (const id of [...this.clusters]) {
      await driver.teardownCluster({ clusterId: id });
      this.clusters.delete(id);
    }
  }

  /** In a faults run the rates stay on across the suite's own `reset()` calls. */
  private keepFaultsOn(fake: StartedNetworkFake<C>): void {
    const rates = this.inputs.faults!;
    const reset = fake.faults.reset.bind(fake.faults);
    fake.faults.setFaultRates(rates);
    fake.faults.reset = () => {
      reset();
      fake.faults.setFaultRates(rates);
    };
  }
}
