import type { AgentSettings, CreateVmInput } from '@slipway/contracts';
import {
  placeholderVmInput,
  startDriverUnderTest,
  type DriverUnderTest as GenericDriverUnderTest,
} from '@slipway/testkit/simulation';
import plugin from '../src/index.js';
import type { VsphereConfig } from '../src/config.js';
import { startFake, type FakeVsphereOptions, type VsphereFake } from '../fake/index.js';

export { failure, placeholderSettings } from '@slipway/testkit/simulation';

export type DriverUnderTest = GenericDriverUnderTest<VsphereFake>;

/** A fake vCenter (agents off unless asked) and a driver created against it through the plugin module. */
export function startDriver(
  options: FakeVsphereOptions & { config?: Partial<VsphereConfig>; password?: string } = {},
): Promise<DriverUnderTest> {
  const { config, password, ...fakeOptions } = options;
  return startDriverUnderTest(plugin, () => startFake({ bootAgents: false, ...fakeOptions }), {
    config,
    credentials: password ? { password } : undefined,
  });
}

/** vSphere VMs in these tests: 2 CPUs, 1 GiB, no ephemeral disk of their own (the linked clone's). */
export const vmInput = (
  stemcellId: string,
  overrides: Partial<CreateVmInput> = {},
  env?: AgentSettings,
): CreateVmInput =>
  placeholderVmInput(stemcellId, { resources: { cpu: 2, memoryMb: 1024, ephemeralDiskMb: 0 }, ...overrides }, env);
